public import Foundation
import GRDB
public import MailGaugeCore

extension AppDatabase {
    /// Evaluates every account's alert rules against its latest state (the decision is
    /// `AlertEvaluation`, pure) and stores the new alert states, in one transaction (a crash never sends a notice twice nor loses
    /// one: the states move together with the decision).
    ///
    /// `route` says which channels each notice goes to; those outbox rows are written in
    /// the same transaction, so a notice is either decided and queued, or neither.
    /// `accounts`: the ids in the config now (nil: all); an account removed from the config
    /// raises nothing more.
    public func evaluateAlerts(now: Date, thresholds: (String) -> AlertRules.Thresholds, accounts: Set<String>? = nil,
                               route: (AccountNotice) -> [OutboxItem] = { _ in [] }) throws -> [AccountNotice] {
        try writer.write { db in
            let states = try Self.latestStates(db, withFolders: false).filter { accounts?.contains($0.id) ?? true }
            return try Self.evaluateAlerts(db, states: states, now: now, thresholds: thresholds, route: route)
        }
    }

    /// The same over states already read (`storedState()` after the run was stored, by
    /// the one writer holding the run lock): a pass that also renders metrics reads every
    /// account once, not twice.
    public func evaluateAlerts(states: [AccountState], now: Date, thresholds: (String) -> AlertRules.Thresholds,
                               route: (AccountNotice) -> [OutboxItem] = { _ in [] }) throws -> [AccountNotice] {
        try writer.write { db in try Self.evaluateAlerts(db, states: states, now: now, thresholds: thresholds, route: route) }
    }

    static func evaluateAlerts(_ db: Database, states: [AccountState], now: Date, thresholds: (String) -> AlertRules.Thresholds,
                               route: (AccountNotice) -> [OutboxItem]) throws -> [AccountNotice] {
        var previous: [String: [AlertRules.Key: AlertRules.State]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM alert_state") {
            guard let rule = AlertRules.Rule(rawValue: row["rule"]), let status = AlertRules.Status(rawValue: row["state"]) else { continue }
            previous[row["account_id"], default: [:]][AlertRules.Key(rule: rule, resource: row["resource"])] = AlertRules.State(
                status: status, since: Date(timeIntervalSince1970: row["since"]),
                lastNotified: (row["last_notified"] as Double?).map(Date.init(timeIntervalSince1970:)), value: row["value"])
        }
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO alert_state (account_id, rule, resource, state, since, last_notified, value)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET state = excluded.state, since = excluded.since,
                last_notified = excluded.last_notified, value = excluded.value
            """)
        let result = AlertEvaluation.evaluate(states: states, previous: previous, thresholds: thresholds, now: now)
        for change in result.changes {
            let s = change.state
            try upsert.execute(arguments: [change.accountID, change.key.rule.rawValue, change.key.resource, s.status.rawValue,
                                           s.since.timeIntervalSince1970, s.lastNotified?.timeIntervalSince1970, s.value])
        }
        for notice in result.notices { try Self.enqueue(db, accountID: notice.accountID, items: route(notice), now: now) }
        return result.notices
    }
}
