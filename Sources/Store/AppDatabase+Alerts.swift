public import Foundation
import GRDB
public import MailGaugeCore

extension AppDatabase {
    /// Evaluates the alert rules of `states` (every account in the config now, read by the
    /// pass after it stored its run: an account removed from the config raises nothing
    /// more) and stores the new alert states, in one transaction: a crash never sends a
    /// notice twice nor loses one, the states move together with the decision, which is
    /// `AlertEvaluation`'s (pure).
    ///
    /// `route` says which channels each notice goes to; those outbox rows are written in
    /// the same transaction, so a notice is either decided and queued, or neither.
    public func evaluateAlerts(states: [AccountState], now: Date, thresholds: (String) -> AlertRules.Thresholds,
                               route: (AccountNotice) -> [OutboxItem] = { _ in [] }) throws -> [AccountNotice] {
        try writer.write { db in try Self.evaluateAlerts(db, states: states, now: now, thresholds: thresholds, route: route) }
    }

    static func evaluateAlerts(_ db: Database, states: [AccountState], now: Date, thresholds: (String) -> AlertRules.Thresholds,
                               route: (AccountNotice) -> [OutboxItem]) throws -> [AccountNotice] {
        var previous: [String: [AlertRules.Key: AlertRules.State]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM alert_state") {
            guard let rule = AlertRules.Rule(rawValue: row["rule"]), let status = AlertRules.Status(rawValue: row["state"]) else { continue }
            previous[row["account_id"], default: [:]][AlertRules.Key(rule: rule, subject: row["resource"])] = AlertRules.State(
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
            try upsert.execute(arguments: [change.accountID, change.key.rule.rawValue, change.key.subject, s.status.rawValue,
                                           s.since.timeIntervalSince1970, s.lastNotified?.timeIntervalSince1970, s.value])
        }
        for notice in result.notices { try Self.enqueue(db, accountID: notice.accountID, items: route(notice), now: now) }
        return result.notices
    }
}
