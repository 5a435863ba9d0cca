public import Foundation
import GRDB
public import MailGaugeCore

/// One notice for one account, ready for a channel.
public struct AccountNotice: Sendable, Hashable {
    public var accountID: String
    public var user: String
    public var notice: AlertRules.Notice
    /// The account's latest STORAGE figures (KiB), for the message.
    public var storage: QuotaPoint?
    /// The earliest forecast full date of the account, if growing.
    public var fullAt: Date?
    /// The latest probe failure message (for probe_failing).
    public var failure: String?
}

extension AppDatabase {
    /// Evaluates every account's alert rules against its latest state and stores the new
    /// alert states, in one transaction (a crash never sends a notice twice nor loses
    /// one: the states move together with the decision).
    ///
    /// `route` says which channels each notice goes to; those outbox rows are written in
    /// the same transaction, so a notice is either decided and queued, or neither.
    public func evaluateAlerts(now: Date, thresholds: (String) -> AlertRules.Thresholds,
                               route: (AccountNotice) -> [OutboxItem] = { _ in [] }) throws -> [AccountNotice] {
        try writer.write { db in
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
            var notices: [AccountNotice] = []
            for state in try Self.latestStates(db) {
                var fractions: [String: Double] = [:]
                for q in state.quota where q.limit > 0 { fractions[q.resource] = max(fractions[q.resource] ?? 0, Double(q.usage) / Double(q.limit)) }
                var fullAt: [String: Date] = [:]
                for f in state.forecasts { if let d = f.fullAt { fullAt[f.resource] = min(fullAt[f.resource] ?? d, d) } }
                let free = state.quota.first { $0.resource == QuotaResourceName.storage && $0.limit > 0 }
                    .map { Double($0.limit > $0.usage ? $0.limit - $0.usage : 0) * 1024 }  // a Double: no overflow
                let observation = AlertRules.Observation(fractions: fractions, fullAt: fullAt,
                                                         consecutiveFailures: state.consecutiveFailures, probeOK: state.lastProbeOK,
                                                         freeBytes: free)
                let result = AlertRules.evaluate(previous: previous[state.id] ?? [:], observation: observation,
                                                 thresholds: thresholds(state.id), now: now)
                for (key, s) in result.states where s != previous[state.id]?[key] {
                    try upsert.execute(arguments: [state.id, key.rule.rawValue, key.resource, s.status.rawValue,
                                                   s.since.timeIntervalSince1970, s.lastNotified?.timeIntervalSince1970, s.value])
                }
                let storage = state.quota.first { $0.resource == QuotaResourceName.storage }
                let fresh = result.notices.map {
                    AccountNotice(accountID: state.id, user: state.user, notice: $0, storage: storage,
                                  fullAt: fullAt.values.min(), failure: state.failureMessage)
                }
                for notice in fresh { try Self.enqueue(db, accountID: state.id, items: route(notice), now: now) }
                notices += fresh
            }
            return notices
        }
    }
}
