public import Foundation
import GRDB

// Retention: what a run prunes and rolls up as history ages (raw samples, then hourly
// maxima, then daily maxima), per probed account with a daily full sweep.

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

extension AppDatabase {
    /// Folds the rows of `table` matching `filter` (its arguments: `arguments`) into
    /// `resolution` buckets of `bucket` seconds, keeping the largest usage and limit, merging
    /// with buckets already there.
    static func rollUp(_ db: Database, from table: String, time: String, samples: String, filter: String,
                       into resolution: String, bucket: Int, arguments: StatementArguments) throws {
        try db.cachedStatement(sql: """
            INSERT INTO quota_rollup (account_id, resolution, bucket, root, resource, usage, "limit", samples)
            SELECT account_id, '\(resolution)', CAST(\(time) / \(bucket) AS INTEGER) * \(bucket), root, resource,
                   MAX(usage), MAX("limit"), \(samples)
            FROM \(table) WHERE \(filter) GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT DO UPDATE SET usage = MAX(usage, excluded.usage), "limit" = MAX("limit", excluded."limit"),
                samples = samples + excluded.samples
            """).execute(arguments: arguments)
    }

    /// How often the whole history is swept; in between, each run prunes only the accounts
    /// it probed (index range deletes, not a scan of every sample).
    static let fullPruneIntervalSeconds = 86400.0

    /// Reduces raw samples older than the raw retention to hourly maxima, hourly older than
    /// the hourly retention to daily maxima, and drops daily past theirs. "Max usage per
    /// bucket" keeps the peaks that matter for a quota. Returns rows removed.
    ///
    /// `accounts`: the accounts this run probed. Their history is pruned now, by primary
    /// key; everything else once a day (an account the schedule leaves alone is probed at
    /// least every max_interval anyway).
    static func prune(_ db: Database, now: Date, policy: RetentionPolicy, accounts: [String]? = nil) throws -> Int {
        let t = now.timeIntervalSince1970
        let lastFull = try Double.fetchOne(db, sql: "SELECT last_run FROM maintenance WHERE task = 'prune'") ?? 0
        guard let accounts, t - lastFull < fullPruneIntervalSeconds else {
            let removed = try prune(db, t: t, policy: policy, account: nil)
            try db.execute(sql: "INSERT OR REPLACE INTO maintenance (task, last_run) VALUES ('prune', ?)", arguments: [t])
            return removed
        }
        var removed = 0
        for account in accounts { removed += try prune(db, t: t, policy: policy, account: account) }
        return removed
    }

    /// One account's history (or everyone's: nil).
    static func prune(_ db: Database, t: Double, policy: RetentionPolicy, account: String?) throws -> Int {
        var removed = 0
        // Prepared once per connection: a run prunes every probed account with the same statements.
        func delete(_ sql: String, _ arguments: StatementArguments) throws {
            try db.cachedStatement(sql: sql).execute(arguments: arguments)
            removed += db.changesCount
        }
        let scope = account == nil ? "" : "account_id = ? AND "
        func args(_ cutoff: Double) -> StatementArguments { account.map { [$0, cutoff] } ?? [cutoff] }
        // For one account, most runs find nothing old enough: an index seek says so before
        // a roll-up or delete does any work.
        func any(_ table: String, _ filter: String, _ cutoff: Double) throws -> Bool {
            guard account != nil else { return true }
            return try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM \(table) WHERE \(scope)\(filter) LIMIT 1"),
                                     arguments: args(cutoff)) ?? false
        }
        if let raw = policy.rawSeconds, try any("quota_sample", "at < ?", t - raw) || any("folder_sample", "at < ?", t - raw) {
            let cutoff = t - raw
            try rollUp(db, from: "quota_sample", time: "at", samples: "COUNT(*)", filter: "\(scope)at < ?", into: "hour", bucket: 3600,
                       arguments: args(cutoff))
            try delete("DELETE FROM quota_sample WHERE \(scope)at < ?", args(cutoff))
            try delete("DELETE FROM folder_sample WHERE \(scope)at < ?", args(cutoff))
        }
        if let hourly = policy.hourlySeconds,
           try any("quota_rollup", "resolution = 'hour' AND bucket < ?", t - hourly) || any("probe", "at < ?", t - hourly) {
            let cutoff = t - hourly
            try rollUp(db, from: "quota_rollup", time: "bucket", samples: "SUM(samples)",
                       filter: "\(scope)resolution = 'hour' AND bucket < ?", into: "day", bucket: 86400, arguments: args(cutoff))
            try delete("DELETE FROM quota_rollup WHERE \(scope)resolution = 'hour' AND bucket < ?", args(cutoff))
            try delete("DELETE FROM probe WHERE \(scope)at < ?", args(cutoff))
        }
        if let daily = policy.dailySeconds, try any("quota_rollup", "resolution = 'day' AND bucket < ?", t - daily) {
            try delete("DELETE FROM quota_rollup WHERE \(scope)resolution = 'day' AND bucket < ?", args(t - daily))
        }
        return removed
    }
}
