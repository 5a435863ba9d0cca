public import Foundation
import GRDB
public import MailGaugeCore

/// The per-resource hourly series (`HourlySeries`, table `quota_series`) that forecasts and
/// the schedule read: kept up to date by each run, rebuilt from the samples when missing.
extension AppDatabase {
    /// Adds one sample to its resource's series, dropping the hours before `keepingFrom`.
    /// Returns the series and whether it changed: a forecast is a function of the series,
    /// so one that did not change (another sample in the same hour, no larger) needs none.
    static func addToSeries(_ db: Database, account: String, root: String, resource: String,
                            point: HourlySeries.Point, keepingFrom: Int64) throws -> (series: HourlySeries, changed: Bool) {
        let stored = try Data.fetchOne(db.cachedStatement(sql: """
            SELECT points FROM quota_series WHERE account_id = ? AND root = ? AND resource = ?
            """), arguments: [account, root, resource]).flatMap(HourlySeries.init(decoding:))
        var series = try stored ?? rebuildSeries(db, account: account, root: root, resource: resource, from: keepingFrom)
        let merged = series.merge(point)
        let dropped = series.drop(before: keepingFrom)
        guard stored == nil || merged || dropped else { return (series, false) }
        guard let last = series.points.last else { return (series, true) }
        try db.cachedStatement(sql: """
            INSERT INTO quota_series (account_id, root, resource, last_hour, points) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET last_hour = excluded.last_hour, points = excluded.points
            """).execute(arguments: [account, root, resource, last.hour, series.encoded()])
        return (series, true)
    }

    /// A series rebuilt from what it is derived from, the raw samples and the hourly
    /// roll-ups since `from`: for a resource seen for the first time, or a row that is
    /// missing or does not decode.
    static func rebuildSeries(_ db: Database, account: String, root: String, resource: String, from: Int64) throws -> HourlySeries {
        let since = Double(from) * 3600
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT at, usage, "limit" FROM quota_sample WHERE account_id = ?1 AND at >= ?4 AND root = ?2 AND resource = ?3
            UNION ALL
            SELECT bucket, usage, "limit" FROM quota_rollup
            WHERE account_id = ?1 AND resolution = 'hour' AND bucket >= ?4 AND root = ?2 AND resource = ?3
            """), arguments: [account, root, resource, since])
        var series = HourlySeries()
        while let row = try rows.next() {
            series.merge(.init(hour: HourlySeries.hour(of: row[0]), usage: row[1], limit: row[2]))
        }
        return series
    }

    /// Drops the series of resources not seen since before the forecast window, once a day
    /// (whatever the retention): each update trims its own series; this finds the rest.
    static func trimHourlySeries(_ db: Database, now t: Double, keepSeconds: Double) throws {
        let last = try Double.fetchOne(db, sql: "SELECT last_run FROM maintenance WHERE task = 'hourly_series'") ?? 0
        guard t - last >= fullPruneIntervalSeconds else { return }
        try db.execute(sql: "DELETE FROM quota_series WHERE last_hour < ?", arguments: [HourlySeries.hour(of: t - keepSeconds - 86400)])
        try db.execute(sql: "INSERT OR REPLACE INTO maintenance (task, last_run) VALUES ('hourly_series', ?)", arguments: [t])
    }

    /// Rebuilds every series from the samples and hourly roll-ups of the last `windowSeconds`
    /// (and a day): for a database whose history was written by other means (the benchmark's
    /// seed) or to repair it. One transaction.
    public func rebuildHourlySeries(now: Date, windowSeconds: Double = Forecast.Options().windowSeconds) throws {
        let since = now.timeIntervalSince1970 - windowSeconds - 86400
        try writer.write { db in
            try db.execute(sql: "DELETE FROM quota_series")
            try Self.buildSeries(db, from: """
                SELECT account_id, root, resource, at, usage, "limit" FROM quota_sample WHERE at >= ?1
                UNION ALL
                SELECT account_id, root, resource, bucket, usage, "limit" FROM quota_rollup WHERE resolution = 'hour' AND bucket >= ?1
                ORDER BY 1, 2, 3, 4
                """, arguments: [since])
        }
    }

    /// Writes one series per (account, root, resource) from `sql`'s rows: account, root,
    /// resource, time (seconds), usage, limit, ordered by the first four.
    static func buildSeries(_ db: Database, from sql: String, arguments: StatementArguments = []) throws {
        let insert = try db.makeStatement(sql: """
            INSERT INTO quota_series (account_id, root, resource, last_hour, points) VALUES (?, ?, ?, ?, ?)
            """)
        var key: (account: String, root: String, resource: String)?
        var series = HourlySeries()
        func flush() throws {
            guard let key, let last = series.points.last else { return }
            try insert.execute(arguments: [key.account, key.root, key.resource, last.hour, series.encoded()])
        }
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            let account: String = row[0], root: String = row[1], resource: String = row[2]
            if key.map({ $0.account != account || $0.root != root || $0.resource != resource }) ?? true {
                try flush()
                key = (account, root, resource)
                series = HourlySeries()
            }
            series.merge(.init(hour: HourlySeries.hour(of: row[3]), usage: row[4], limit: row[5]))
        }
        try flush()
    }
}
