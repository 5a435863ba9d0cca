public import Foundation
import GRDB
public import MailGaugeCore

/// How long each resolution of history is kept (nil: forever).
public struct RetentionPolicy: Sendable, Hashable {
    public var rawSeconds: Double?
    public var hourlySeconds: Double?
    public var dailySeconds: Double?

    public init(rawSeconds: Double?, hourlySeconds: Double?, dailySeconds: Double?) {
        self.rawSeconds = rawSeconds
        self.hourlySeconds = hourlySeconds
        self.dailySeconds = dailySeconds
    }
}

public struct RunSummary: Sendable, Hashable {
    public var runID: Int64
    public var accounts: Int
    public var failures: Int
    public var pruned: Int
}

extension AppDatabase {
    /// Stores one run's outcomes and prunes old history, all in one transaction.
    @discardableResult
    public func record(startedAt: Date, finishedAt: Date, outcomes: [AccountOutcome],
                       retention: RetentionPolicy? = nil, forecast: Forecast.Options = .init(),
                       schedule: ProbeSchedule.Settings? = nil) throws -> RunSummary {
        try writer.write { db in
            let failures = outcomes.filter { $0.failure != nil }.count
            try db.execute(sql: "INSERT INTO run (started_at, finished_at, accounts, failures) VALUES (?, ?, ?, ?)",
                           arguments: [startedAt.timeIntervalSince1970, finishedAt.timeIntervalSince1970, outcomes.count, failures])
            let runID = db.lastInsertedRowID
            let upsertAccount = try db.cachedStatement(sql: """
                INSERT INTO account (id, user, server, first_seen, last_seen, last_success, consecutive_failures)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                    user = excluded.user, server = excluded.server, last_seen = excluded.last_seen,
                    last_success = COALESCE(excluded.last_success, account.last_success),
                    consecutive_failures = CASE WHEN excluded.last_success IS NULL
                        THEN account.consecutive_failures + 1 ELSE 0 END
                """)
            let insertProbe = try db.cachedStatement(sql: """
                INSERT INTO probe (run_id, account_id, at, ok, duration_seconds, attempts, quota_status, method,
                                   failure_reason, failure_message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertQuota = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO quota_sample (account_id, at, run_id, root, resource, usage, "limit")
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            let insertFolder = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO folder_sample (account_id, at, run_id, name, raw_name, special_use, messages, size_bytes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let setServerAlert = try db.cachedStatement(sql: "UPDATE account SET server_alert = ?, server_alert_at = ? WHERE id = ?")
            let countFailure = try db.cachedStatement(sql: """
                INSERT INTO failure_count (account_id, reason, count) VALUES (?, ?, 1)
                ON CONFLICT DO UPDATE SET count = count + 1
                """)
            for outcome in outcomes {
                let at = outcome.at.timeIntervalSince1970
                let success: Double? = outcome.snapshot == nil ? nil : at
                try upsertAccount.execute(arguments: [outcome.accountID, outcome.user, outcome.server, at, at, success,
                                                      success == nil ? 1 : 0])
                try insertProbe.execute(arguments: [
                    runID, outcome.accountID, at, outcome.snapshot != nil, outcome.durationSeconds, outcome.attempts,
                    outcome.snapshot?.quotaStatus.rawValue, outcome.snapshot?.method.rawValue,
                    outcome.failure?.reason.rawValue, outcome.failure?.message,
                ])
                if let failure = outcome.failure {
                    try countFailure.execute(arguments: [outcome.accountID, failure.reason.rawValue])
                }
                guard let snapshot = outcome.snapshot else { continue }
                if !snapshot.alerts.isEmpty {
                    // Bounded: a server decides how long its texts are.
                    let text = String(snapshot.alerts.joined(separator: " | ").prefix(AccountState.maxServerAlertLength))
                    try setServerAlert.execute(arguments: [text, at, outcome.accountID])
                }
                for root in snapshot.quotaRoots {
                    for r in root.resources {
                        try insertQuota.execute(arguments: [outcome.accountID, at, runID, root.name, r.resource,
                                                            Int64(clamping: r.usage), Int64(clamping: r.limit)])
                    }
                }
                for f in snapshot.folders {
                    try insertFolder.execute(arguments: [outcome.accountID, at, runID, f.name, f.rawName,
                                                         f.specialUse.joined(separator: " "), Int64(clamping: f.messages),
                                                         Int64(clamping: f.sizeBytes.value)])
                }
            }
            let probedAt = Dictionary(outcomes.map { ($0.accountID, $0.at.timeIntervalSince1970) }, uniquingKeysWith: max)
            try Self.updateForecasts(db, accounts: outcomes.filter { $0.snapshot != nil }.map(\.accountID), now: finishedAt,
                                     options: forecast, schedule: schedule, probedAt: probedAt)
            if let schedule {
                let setDue = try db.cachedStatement(sql: "UPDATE account SET next_probe_at = ?, next_probe_reason = ? WHERE id = ?")
                for outcome in outcomes where outcome.snapshot == nil {
                    let due = ProbeSchedule.afterFailure(probedAt: outcome.at.timeIntervalSince1970, options: schedule.options)
                    try setDue.execute(arguments: [due.dueAt, due.reason.rawValue, outcome.accountID])
                }
            }
            let pruned = try retention.map { try Self.prune(db, now: finishedAt, policy: $0) } ?? 0
            return RunSummary(runID: runID, accounts: outcomes.count, failures: failures, pruned: pruned)
        }
    }

    /// Recomputes the forecast of every quota resource of these accounts from the last
    /// `options.windowSeconds` of history, reduced to the largest usage per hour (enough
    /// for a trend over days, and bounded work per account).
    /// With `schedule`, the account's next due time follows from the same history.
    static func updateForecasts(_ db: Database, accounts: [String], now: Date, options: Forecast.Options,
                                schedule: ProbeSchedule.Settings? = nil, probedAt: [String: Double] = [:]) throws {
        let t = now.timeIntervalSince1970
        let history = try db.cachedStatement(sql: """
            SELECT root, resource, CAST(at / 3600 AS INTEGER) * 3600 AS hour, MAX(usage) AS usage, MAX("limit") AS "limit"
            FROM (SELECT at, root, resource, usage, "limit" FROM quota_sample WHERE account_id = ? AND at >= ?
                  UNION ALL
                  SELECT bucket, root, resource, usage, "limit" FROM quota_rollup WHERE account_id = ? AND bucket >= ?)
            GROUP BY root, resource, hour ORDER BY root, resource, hour
            """)
        let clear = try db.cachedStatement(sql: "DELETE FROM forecast WHERE account_id = ?")
        let insert = try db.cachedStatement(sql: """
            INSERT INTO forecast (account_id, root, resource, full_at, slope_per_second, status, computed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        let setDue = try db.cachedStatement(sql: "UPDATE account SET next_probe_at = ?, next_probe_reason = ? WHERE id = ?")
        for account in accounts {
            let since = t - options.windowSeconds
            var series: [String: (root: String, resource: String, points: [Forecast.Point])] = [:]
            for row in try Row.fetchAll(history, arguments: [account, since, account, since]) {
                let root: String = row["root"], resource: String = row["resource"]
                let point = Forecast.Point(time: row["hour"], usage: row["usage"], limit: row["limit"])
                series["\(root)\u{0}\(resource)", default: (root, resource, [])].points.append(point)
            }
            try clear.execute(arguments: [account])
            var outlooks: [ProbeSchedule.Outlook] = []
            for (root, resource, points) in series.values {
                // The decisions are MailGaugeCore's; this only loads and saves.
                let forecast = StoredForecast.from(points, root: root, resource: resource, now: t, options: options)
                try insert.execute(arguments: [account, root, resource, forecast.fullAt?.timeIntervalSince1970, forecast.slopePerSecond,
                                               forecast.status, t])
                if let latest = points.last {
                    outlooks.append(ProbeSchedule.Outlook(resource: resource, usage: latest.usage, limit: latest.limit,
                                                          growth: ProbeSchedule.Growth(points),
                                                          forecastFullAt: forecast.fullAt?.timeIntervalSince1970))
                }
            }
            if let schedule {
                let due = ProbeSchedule.afterSuccess(probedAt: probedAt[account] ?? t, outlooks: outlooks,
                                                     thresholds: schedule.thresholds(account), options: schedule.options)
                try setDue.execute(arguments: [due.dueAt, due.reason.rawValue, account])
            }
        }
    }

    /// Folds the rows of `table` matching `filter` (older than `cutoff`) into `resolution`
    /// buckets of `bucket` seconds, keeping the largest usage and limit, merging with
    /// buckets already there.
    static func rollUp(_ db: Database, from table: String, time: String, samples: String, filter: String,
                       into resolution: String, bucket: Int, cutoff: Double) throws {
        try db.execute(sql: """
            INSERT INTO quota_rollup (account_id, resolution, bucket, root, resource, usage, "limit", samples)
            SELECT account_id, '\(resolution)', CAST(\(time) / \(bucket) AS INTEGER) * \(bucket), root, resource,
                   MAX(usage), MAX("limit"), \(samples)
            FROM \(table) WHERE \(filter) GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT DO UPDATE SET usage = MAX(usage, excluded.usage), "limit" = MAX("limit", excluded."limit"),
                samples = samples + excluded.samples
            """, arguments: [cutoff])
    }

    /// Reduces raw samples older than the raw retention to hourly maxima, hourly older than
    /// the hourly retention to daily maxima, and drops daily past theirs. "Max usage per
    /// bucket" keeps the peaks that matter for a quota. Returns rows removed.
    static func prune(_ db: Database, now: Date, policy: RetentionPolicy) throws -> Int {
        let t = now.timeIntervalSince1970
        var removed = 0
        if let raw = policy.rawSeconds {
            let cutoff = t - raw
            try rollUp(db, from: "quota_sample", time: "at", samples: "COUNT(*)", filter: "at < ?", into: "hour", bucket: 3600, cutoff: cutoff)
            try db.execute(sql: "DELETE FROM quota_sample WHERE at < ?", arguments: [cutoff])
            removed += db.changesCount
            try db.execute(sql: "DELETE FROM folder_sample WHERE at < ?", arguments: [cutoff])
            removed += db.changesCount
        }
        if let hourly = policy.hourlySeconds {
            let cutoff = t - hourly
            try rollUp(db, from: "quota_rollup", time: "bucket", samples: "SUM(samples)",
                       filter: "resolution = 'hour' AND bucket < ?", into: "day", bucket: 86400, cutoff: cutoff)
            try db.execute(sql: "DELETE FROM quota_rollup WHERE resolution = 'hour' AND bucket < ?", arguments: [cutoff])
            removed += db.changesCount
            try db.execute(sql: "DELETE FROM probe WHERE at < ?", arguments: [cutoff])
            removed += db.changesCount
        }
        if let daily = policy.dailySeconds {
            try db.execute(sql: "DELETE FROM quota_rollup WHERE resolution = 'day' AND bucket < ?", arguments: [t - daily])
            removed += db.changesCount
        }
        return removed
    }
}
