public import Foundation
import GRDB
public import MailGaugeCore

extension AppDatabase: NotificationOutbox {
    /// Every waiting notice, oldest first.
    public func pendingNotifications() throws -> [OutboxEntry] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id").map { row in
                OutboxEntry(id: row["id"], channel: OutboxChannel(rawValue: row["channel"]), accountID: row["account_id"],
                            payload: Data((row["payload"] as String).utf8),
                            createdAt: Date(timeIntervalSince1970: row["created_at"]), attempts: row["attempts"],
                            lastError: row["last_error"])
            }
        }
    }

    /// How many notices wait (for the metrics; no payload is read).
    public func pendingNotificationCount() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }

    /// Delivered: gone from the outbox.
    public func notificationsDelivered(ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try writer.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE id IN (\(ids.map(String.init).joined(separator: ",")))")
        }
    }

    /// Not delivered: kept for the next run with the error, and counted once against
    /// `counterChannel` (the metric's label: email, owner_email, webhook).
    public func notificationsFailed(ids: [Int64], counterChannel: String, error: String) throws {
        try writer.write { db in
            if !ids.isEmpty {
                try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id IN (\(ids.map(String.init).joined(separator: ",")))",
                               arguments: [error])
            }
            try db.execute(sql: """
                INSERT INTO notification_failure (channel, count) VALUES (?, 1)
                ON CONFLICT DO UPDATE SET count = count + 1
                """, arguments: [counterChannel])
        }
    }

    /// Notices older than `cutoff` that no run could deliver: dropped, so a channel that
    /// was broken for weeks does not flood its recipients with stale news once fixed.
    /// Returns how many were dropped.
    @discardableResult
    public func dropStaleNotifications(olderThan cutoff: Date) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE created_at < ?", arguments: [cutoff.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func notificationFailureCounts() throws -> [String: Int] {
        try writer.read { db in try Self.notificationFailureCounts(db) }
    }

    static func notificationFailureCounts(_ db: Database) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT channel, count FROM notification_failure") { out[row["channel"]] = row["count"] }
        return out
    }

    static func enqueue(_ db: Database, accountID: String, items: [OutboxItem], now: Date) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO outbox (channel, account_id, payload, created_at) VALUES (?, ?, ?, ?)")
        for item in items {
            try insert.execute(arguments: [item.channel.rawValue, accountID, String(decoding: item.payload, as: UTF8.self), now.timeIntervalSince1970])
        }
    }

    /// Alerts firing now, for channels that want the whole current picture each run
    /// (Alertmanager expects firing alerts to be re-sent, or it resolves them).
    public func firingAlerts() throws -> [FiringAlert] {
        let rows = try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT account_id, rule, resource, since, value FROM alert_state WHERE state = 'firing' ORDER BY account_id, rule, resource")
        }
        var out: [FiringAlert] = []
        for row in rows {
            // A rule this version does not know (a newer one wrote it) is skipped, not a crash.
            guard let rule = AlertRules.Rule(rawValue: row["rule"]) else { continue }
            out.append(FiringAlert(accountID: row["account_id"], key: AlertRules.Key(rule: rule, subject: row["resource"]),
                                   since: Date(timeIntervalSince1970: row["since"]), value: row["value"]))
        }
        return out
    }
}
