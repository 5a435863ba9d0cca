public import Foundation
import GRDB
public import MailGaugeCore

public struct RunSummary: Sendable, Hashable {
    public var runID: Int64
    public var accounts: Int
    public var failures: Int
    public var pruned: Int
}

extension AppDatabase {
    /// Stores one run's outcomes, prunes old history, and saves the forecasts and (with
    /// `schedule`) every probed account's next due time, all in one transaction: a run
    /// killed at any moment leaves the previous one whole. The forecasts of the accounts
    /// whose hourly series moved (a new hour, a larger usage or limit) are computed meanwhile
    /// by a `ForecastWorker` on another thread, from the series the inserts have in hand.
    @discardableResult
    public func record(startedAt: Date, finishedAt: Date, outcomes: [AccountOutcome],
                       retention: RetentionPolicy? = nil, forecast: Forecast.Options = .init(),
                       schedule: ProbeSchedule.Settings? = nil, bulkReadings: [String: Double] = [:]) throws -> RunSummary {
        let t = finishedAt.timeIntervalSince1970
        let forecaster = ForecastWorker(now: t, options: forecast)
        let summary = try writer.writeWithoutTransaction { db -> RunSummary in
            // Foreign keys are not checked while a run is stored: every row written here
            // refers to the run row and the account rows this same transaction writes first,
            // and at 10,000 accounts the checks were two index lookups for each of 30,000
            // rows a pass. Nothing here deletes a parent row, so no cascade is missed.
            // (The pragma cannot change inside a transaction: it is set around it.)
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            var summary: RunSummary?
            try db.inTransaction {
                summary = try store(db)
                return .commit
            }
            return summary!
        }
        return summary

        func store(_ db: Database) throws -> RunSummary {
            let failures = outcomes.filter { $0.failure != nil }.count
            try db.execute(sql: "INSERT INTO run (started_at, finished_at, accounts, failures) VALUES (?, ?, ?, ?)",
                           arguments: [startedAt.timeIntervalSince1970, finishedAt.timeIntervalSince1970, outcomes.count, failures])
            let runID = db.lastInsertedRowID
            for (source, at) in bulkReadings {
                try db.execute(sql: "INSERT OR REPLACE INTO bulk_reading (source, read_at) VALUES (?, ?)", arguments: [source, at])
            }
            let upsertAccount = try db.cachedStatement(sql: """
                INSERT INTO account (id, user, server, first_seen, last_seen, last_success, consecutive_failures, last_folders_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                    user = excluded.user, server = excluded.server, last_seen = excluded.last_seen,
                    last_success = COALESCE(excluded.last_success, account.last_success),
                    last_folders_at = COALESCE(excluded.last_folders_at, account.last_folders_at),
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
            let setServerAlert = try db.cachedStatement(sql: "UPDATE account SET server_alert = ?, server_alert_at = ? WHERE id = ?")
            let seriesFrom = HourlySeries.hour(of: t - forecast.windowSeconds - 86400)
            let windowFrom = HourlySeries.hour(of: t - forecast.windowSeconds)
            let countFailure = try db.cachedStatement(sql: """
                INSERT INTO failure_count (account_id, reason, count) VALUES (?, ?, 1)
                ON CONFLICT DO UPDATE SET count = count + 1
                """)
            for (index, outcome) in outcomes.enumerated() {
                let at = outcome.at.timeIntervalSince1970
                let success: Double? = outcome.snapshot == nil ? nil : at
                let foldersAt: Double? = outcome.snapshot?.foldersIncluded == true ? at : nil
                try upsertAccount.execute(arguments: [outcome.accountID, outcome.user, outcome.server, at, at, success,
                                                      success == nil ? 1 : 0, foldersAt])
                try insertProbe.execute(arguments: [
                    runID, outcome.accountID, at, outcome.snapshot != nil, outcome.durationSeconds, outcome.attempts,
                    outcome.snapshot?.quotaStatus.rawValue,
                    outcome.snapshot.flatMap { $0.foldersIncluded ? $0.method.rawValue : "bulk_quota" },
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
                // Forecasts only for accounts whose series moved (a new hour, a larger usage
                // or limit): the forecast is a function of the series.
                var series: [(root: String, resource: String, series: HourlySeries)] = []
                var moved = false
                for root in snapshot.quotaRoots {
                    for r in root.resources {
                        try insertQuota.execute(arguments: [outcome.accountID, at, runID, root.name, r.resource,
                                                            Int64(clamping: r.usage), Int64(clamping: r.limit)])
                        let added = try Self.addToSeries(db, account: outcome.accountID, root: root.name, resource: r.resource,
                                                         point: .init(hour: HourlySeries.hour(of: at), usage: Int64(clamping: r.usage),
                                                                      limit: Int64(clamping: r.limit)),
                                                         keepingFrom: seriesFrom)
                        moved = moved || added.changed
                        series.append((root.name, r.resource, added.series))
                    }
                }
                if moved {
                    forecaster.submit(account: outcome.accountID, series: series.map { ($0.root, $0.resource, $0.series.forecastPoints(from: windowFrom)) })
                }
                if index % 256 == 255 { try Self.saveForecasts(db, forecaster.drain(), computedAt: t) }
                if snapshot.foldersIncluded { try Self.insertFolders(db, snapshot.folders, account: outcome.accountID, at: at, runID: runID) }
            }
            let pruned = try retention.map { policy in
                try Self.prune(db, now: finishedAt, policy: policy, accounts: outcomes.map(\.accountID))
            } ?? 0
            try Self.trimHourlySeries(db, now: t, keepSeconds: forecast.windowSeconds)
            // Computed meanwhile on the other core and saved as they come: waiting for the
            // last few costs nothing while the worker keeps up, and history, forecasts and
            // due times commit together.
            try Self.saveForecasts(db, forecaster.finish(), computedAt: t)
            if let schedule { try Self.saveDueTimes(db, outcomes: outcomes, schedule: schedule) }
            return RunSummary(runID: runID, accounts: outcomes.count, failures: failures, pruned: pruned)
        }
    }

    /// An account's folders, up to 16 rows per statement: at 10,000 accounts × 10 folders a
    /// pass inserts 100,000 rows, and each statement costs GRDB's and SQLite's own overhead.
    static func insertFolders(_ db: Database, _ folders: [FolderUsage], account: String, at: Double, runID: Int64) throws {
        let chunk = 16
        for start in stride(from: 0, to: folders.count, by: chunk) {
            let rows = folders[start..<min(start + chunk, folders.count)]
            let statement = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO folder_sample (account_id, at, run_id, name, raw_name, special_use, messages, size_bytes) VALUES
                """ + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", "))
            var values: [(any DatabaseValueConvertible)?] = []
            values.reserveCapacity(rows.count * 8)
            for f in rows {
                values += [account, at, runID, f.name, f.rawName, f.specialUse.joined(separator: " "), Int64(clamping: f.messages),
                           f.sizeBytes.map { Int64(clamping: $0.value) }]  // NULL: unknown as [(any DatabaseValueConvertible)?]
            }
            try statement.execute(arguments: StatementArguments(values))
        }
    }

    /// A forecast with the growth figures the schedule keeps beside it.
    struct ComputedForecast {
        var forecast: StoredForecast
        var growth: ProbeSchedule.Growth
    }

    static func saveForecasts(_ db: Database, _ forecasts: [String: [ComputedForecast]], computedAt t: Double) throws {
        let clear = try db.cachedStatement(sql: "DELETE FROM forecast WHERE account_id = ?")
        let insert = try db.cachedStatement(sql: """
            INSERT INTO forecast (account_id, root, resource, full_at, slope_per_second, status, computed_at, fastest_growth, largest_rise)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (account, computed) in forecasts {
            try clear.execute(arguments: [account])
            for c in computed {
                let f = c.forecast
                try insert.execute(arguments: [account, f.root, f.resource, f.fullAt?.timeIntervalSince1970, f.slopePerSecond, f.status.rawValue, t,
                                               c.growth.fastestPerSecond, c.growth.largestRise])
            }
        }
    }

    /// Every probed account's next due time: from its snapshot's usage and limits and the
    /// stored forecast and growth of each resource (just computed, or kept because nothing
    /// moved); a failed probe is due next pass.
    static func saveDueTimes(_ db: Database, outcomes: [AccountOutcome], schedule: ProbeSchedule.Settings) throws {
        let setDue = try db.cachedStatement(sql: "UPDATE account SET next_probe_at = ?, next_probe_reason = ? WHERE id = ?")
        let storedDue = try db.cachedStatement(sql: "SELECT next_probe_at FROM account WHERE id = ?")
        let stored = try db.cachedStatement(sql: """
            SELECT root, resource, full_at, fastest_growth, largest_rise FROM forecast WHERE account_id = ?
            """)
        for outcome in outcomes {
            let id = outcome.accountID
            let account = PassPlan.Account(id: id, thresholds: schedule.thresholds(id), quotaReadEvery: schedule.quotaReadEvery(id))
            let reading: PassPlan.Reading
            var dueAt: Double?
            if let snapshot = outcome.snapshot {
                var known: [String: (fullAt: Double?, growth: ProbeSchedule.Growth)] = [:]
                let rows = try Row.fetchCursor(stored, arguments: [id])
                while let row = try rows.next() {  // by position (see quotaPoint)
                    known["\(row[0] as String)\u{0}\(row[1] as String)"] = (row[2], ProbeSchedule.Growth(fastestPerSecond: row[3], largestRise: row[4]))
                }
                let outlooks = snapshot.quotaRoots.flatMap { root in
                    root.resources.map { r in
                        let k = known["\(root.name)\u{0}\(r.resource)"]
                        return ProbeSchedule.Outlook(resource: r.resource, usage: Double(r.usage), limit: Double(r.limit),
                                                     growth: k?.growth ?? .init(), forecastFullAt: k?.fullAt)
                    }
                }
                if snapshot.foldersIncluded {
                    reading = .probed(outlooks)
                } else {
                    reading = .quotaOnly(outlooks)
                    dueAt = try Double.fetchOne(storedDue, arguments: [id])
                }
            } else {
                reading = .failed
            }
            // The plan decides (PassPlan.dueUpdate); the store only writes what it says.
            if case .set(let due) = PassPlan.dueUpdate(reading, at: outcome.at.timeIntervalSince1970, storedDueAt: dueAt,
                                                       account: account, options: schedule.options) {
                try setDue.execute(arguments: [due.dueAt, due.reason.rawValue, id])
            }
        }
    }
}
