public import Foundation
import GRDB
public import MailGaugeCore

extension AppDatabase {
    /// Quota history since `since`, raw samples and older roll-ups together, oldest first.
    public func history(account: String, since: Date) throws -> [QuotaPoint] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, root, resource, usage, "limit", 'raw' AS resolution FROM quota_sample
                    WHERE account_id = ? AND at >= ?
                UNION ALL
                SELECT bucket AS at, root, resource, usage, "limit", resolution FROM quota_rollup
                    WHERE account_id = ? AND bucket >= ?
                ORDER BY 1, 2, 3
                """, arguments: [account, since.timeIntervalSince1970, account, since.timeIntervalSince1970]).map { Self.quotaPoint($0) }
        }
    }

    public func folderHistory(account: String, since: Date) throws -> [FolderPoint] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, name, special_use, messages, size_bytes FROM folder_sample
                WHERE account_id = ? AND at >= ? ORDER BY at, size_bytes DESC
                """, arguments: [account, since.timeIntervalSince1970]).map { Self.folderPoint($0) }
        }
    }

    /// The folders of the account's latest folder reading, largest first (one account's
    /// page: no read of every account's state).
    public func latestFolders(account: String) throws -> [FolderPoint] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT f.at, f.name, f.special_use, f.messages, f.size_bytes
                FROM account a CROSS JOIN folder_sample f ON f.account_id = a.id AND f.at = a.last_folders_at
                WHERE a.id = ? ORDER BY f.size_bytes DESC, f.name
                """, arguments: [account]).map { Self.folderPoint($0) }
        }
    }

    public func accountExists(_ id: String) throws -> Bool {
        try writer.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE id = ?", arguments: [id]) ?? false }
    }

    /// Every account's latest state: one consistent snapshot (a single read transaction).
    public func latestStates() throws -> [AccountState] {
        try writer.read { db in try Self.latestStates(db) }
    }

    /// Everything the metrics are rendered from, in one read transaction, so a run
    /// committing meanwhile cannot mix two runs in one scrape.
    /// `withFolders: false` leaves every account's folders out (see `latestStates`).
    public func storedState(withFolders: Bool = true) throws -> StoredState {
        try writer.read { db in try Self.storedState(db, withFolders: withFolders) }
    }

    /// The same, read on a reader connection without blocking the caller's thread: a pass
    /// starts it beside `record` (the accounts it does not probe are unchanged by it) and
    /// then brings the result up to date with `storedState(updating:accounts:withFolders:)`.
    public func readStoredState(withFolders: Bool = true) async throws -> StoredState {
        try await writer.read { db in try Self.storedState(db, withFolders: withFolders) }
    }

    /// `state`, read before or while a run was stored, brought up to date after it: the
    /// accounts the run stored are read again, and everything global (failure counters,
    /// the last run, notifications, servers); every other account's state is unchanged by a
    /// run. At 10,000 accounts with a fifth probed this reads 2,000 accounts, not 10,000.
    public func storedState(updating state: StoredState, accounts: [String], withFolders: Bool = true) throws -> StoredState {
        try writer.read { db in
            var fresh = try Self.storedState(db, withFolders: withFolders, only: accounts)
            var merged = state.states
            var index = Dictionary(merged.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
            var added = false
            for s in fresh.states {
                if let i = index[s.id] {
                    merged[i] = s
                } else {
                    index[s.id] = merged.count
                    merged.append(s)
                    added = true
                }
            }
            if added { merged.sort { $0.id < $1.id } }
            fresh.states = merged
            return fresh
        }
    }

    static func storedState(_ db: Database, withFolders: Bool, only: [String]? = nil) throws -> StoredState {
        var state = StoredState(states: try Self.latestStates(db, withFolders: withFolders, only: only),
                                failureCounts: try Self.failureCounts(db), lastRun: try Self.lastRun(db),
                                notificationFailures: try Self.notificationFailureCounts(db),
                                notificationsPending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0)
        state.servers = try Self.serverHealth(db)
        return state
    }

    /// Every account's latest state, sorted by id (`only`: just those accounts').
    /// `withFolders: false` leaves each state's folders empty: alert evaluation reads every
    /// account and needs none of their ten-odd folder rows.
    static func latestStates(_ db: Database, withFolders: Bool = true, only: [String]? = nil) throws -> [AccountState] {
        // Each account's rows are sorted here, a few at a time, not by SQLite over all of
        // them (a sort of 100,000 folder rows was a fifth of this read at 10,000 accounts).
        // Cursors, not fetchAll: at 10,000 accounts the rows fetched all at once (accounts,
        // 20,000 quota points, 100,000 folders) were a large share of a run's peak memory.
        func each(_ sql: String, account column: String, _ body: (Row) throws -> Void) throws {
            guard let only else {
                let rows = try Row.fetchCursor(db, sql: sql)
                while let row = try rows.next() { try body(row) }
                return
            }
            let statement = try db.cachedStatement(sql: sql + " WHERE \(column) = ?")
            for id in only {
                let rows = try Row.fetchCursor(statement, arguments: [id])
                while let row = try rows.next() { try body(row) }
            }
        }
        // The quota and folders of each account's last successful probe. CROSS JOIN keeps
        // the account table outside: a lookup by primary key per account, never a scan of
        // the samples (millions of rows at 10,000 accounts × 14 days).
        var quota: [String: [QuotaPoint]] = [:]
        try each("""
            SELECT q.account_id, q.at, q.root, q.resource, q.usage, q."limit", 'raw' AS resolution
            FROM account a CROSS JOIN quota_sample q ON q.account_id = a.id AND q.at = a.last_success
            """, account: "a.id") { row in quota[row[0] as String, default: []].append(Self.quotaPoint(row, from: 1)) }
        var folders: [String: [FolderPoint]] = [:]
        if withFolders {
            try each("""
                SELECT f.account_id, f.at, f.name, f.special_use, f.messages, f.size_bytes
                FROM account a CROSS JOIN folder_sample f ON f.account_id = a.id AND f.at = a.last_folders_at
                """, account: "a.id") { row in folders[row[0] as String, default: []].append(Self.folderPoint(row, from: 1)) }
        }
        var forecasts: [String: [StoredForecast]] = [:]
        try each("SELECT account_id, root, resource, full_at, slope_per_second, status FROM forecast", account: "account_id") { row in
            forecasts[row[0] as String, default: []].append(StoredForecast(
                root: row[1], resource: row[2], fullAt: (row[3] as Double?).map(Date.init(timeIntervalSince1970:)),
                // A status this version does not know reads as no forecast, never a trap.
                slopePerSecond: row[4], status: Self.decode(row[5]) ?? .insufficientData))
        }
        // Sized once: grown by doubling, the array of 10,000 states was 5.7 MB at a run's peak.
        var states: [AccountState] = []
        states.reserveCapacity(try only?.count ?? Int.fetchOne(db, sql: "SELECT COUNT(*) FROM account") ?? 0)
        try each("""
            SELECT a.id, a.user, a.server, a.last_seen, a.last_success, a.consecutive_failures,
                   a.server_alert, a.server_alert_at, a.next_probe_at, a.next_probe_reason, p.ok, p.duration_seconds, p.failure_reason, p.failure_message, p.quota_status
            FROM account a
            LEFT JOIN probe p ON p.account_id = a.id AND p.at = a.last_seen
            """, account: "a.id") { row in  // by position (see quotaPoint)
            let id: String = row[0]
            states.append(AccountState(
                id: id, user: row[1], server: row[2],
                lastSeen: Date(timeIntervalSince1970: row[3]),
                lastSuccess: (row[4] as Double?).map(Date.init(timeIntervalSince1970:)),
                consecutiveFailures: row[5],
                lastProbeOK: (row[10] as Bool?) ?? false, lastProbeDuration: (row[11] as Double?) ?? 0,
                failureReason: Self.decode(row[12]), failureMessage: row[13],
                quotaStatus: Self.decode(row[14]),
                quota: (quota.removeValue(forKey: id) ?? []).sorted { ($0.root, $0.resource) < ($1.root, $1.resource) },
                folders: (folders.removeValue(forKey: id) ?? []).sorted { SizeOrder.largerFirst(($0.sizeBytes, $0.name), ($1.sizeBytes, $1.name)) },
                forecasts: (forecasts.removeValue(forKey: id) ?? []).sorted { ($0.root, $0.resource) < ($1.root, $1.resource) },
                serverAlert: row[6],
                serverAlertAt: (row[7] as Double?).map(Date.init(timeIntervalSince1970:)),
                nextProbeAt: (row[8] as Double?).map(Date.init(timeIntervalSince1970:)),
                nextProbeReason: Self.decode(row[9])))
        }
        states.sort { $0.id < $1.id }
        return states
    }

    /// The notification figures of `storedState()` read again: after alert evaluation
    /// queued notices and delivery sent or failed some, the rest of a state read before is
    /// still current.
    public func refreshNotifications(_ state: inout StoredState) throws {
        try writer.read { db in
            state.notificationFailures = try Self.notificationFailureCounts(db)
            state.notificationsPending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
        }
    }

    /// Each known account's next due time (seconds since 1970; absent: never scheduled).
    public func probeDueTimes() throws -> [String: Double] {
        try writer.read { db in
            var due: [String: Double] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, next_probe_at FROM account WHERE next_probe_at IS NOT NULL") {
                due[row["id"]] = row["next_probe_at"]
            }
            return due
        }
    }

    /// When each bulk quota source last answered (see `record(…, bulkReadings:)`).
    public func bulkReadingTimes() throws -> [String: Double] {
        try writer.read { db in
            var times: [String: Double] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT source, read_at FROM bulk_reading") { times[row["source"]] = row["read_at"] }
            return times
        }
    }

    /// The latest run, if any.
    public func lastRun() throws -> RunInfo? {
        try writer.read { db in try Self.lastRun(db) }
    }

    static func lastRun(_ db: Database) throws -> RunInfo? {
        do {
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run ORDER BY id DESC LIMIT 1") else { return nil }
            return RunInfo(id: row["id"], startedAt: Date(timeIntervalSince1970: row["started_at"]),
                           finishedAt: Date(timeIntervalSince1970: row["finished_at"]), accounts: row["accounts"], failures: row["failures"])
        }
    }

    /// Failed probes per account and reason since the database was created. Kept in its
    /// own table so the count only grows (a Prometheus counter), however history is pruned.
    public func failureCounts() throws -> [String: [String: Int]] {
        try writer.read { db in try Self.failureCounts(db) }
    }

    static func failureCounts(_ db: Database) throws -> [String: [String: Int]] {
        do {
            var out: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT account_id, reason, count FROM failure_count") {
                out[row["account_id"], default: [:]][row["reason"]] = row["count"]
            }
            return out
        }
    }

    /// From the columns at, root, resource, usage, limit, resolution, starting at `from`
    /// (by position: by name, GRDB searches the columns for every value, and at 10,000
    /// accounts those lookups were a third of reading every account's state).
    static func quotaPoint(_ row: Row, from i: Int = 0) -> QuotaPoint {
        QuotaPoint(at: Date(timeIntervalSince1970: row[i]), root: row[i + 1], resource: row[i + 2],
                   usage: UInt64(max(0, row[i + 3] as Int64)), limit: UInt64(max(0, row[i + 4] as Int64)),
                   resolution: decode(row[i + 5]) ?? .raw)  // the queries above write only raw, hour and day
    }

    /// A stored enum's text as the value, or nil for NULL or a text this version does not
    /// know (written by a newer one, or by hand): a reader never traps on what it reads.
    static func decode<T: RawRepresentable>(_ value: DatabaseValue) -> T? where T.RawValue == String {
        String.fromDatabaseValue(value).flatMap(T.init(rawValue:))
    }

    /// From the columns at, name, special_use, messages, size_bytes, starting at `from`.
    static func folderPoint(_ row: Row, from i: Int = 0) -> FolderPoint {
        let special: String = row[i + 2]
        return FolderPoint(at: Date(timeIntervalSince1970: row[i]), name: row[i + 1],
                           specialUse: special.isEmpty ? [] : special.split(separator: " ").map(String.init),
                           messages: UInt64(max(0, row[i + 3] as Int64)),
                           // NULL (unknown) stays unknown; so does anything else not a byte count.
                           sizeBytes: (row[i + 4] as Int64?).flatMap { $0 >= 0 ? ByteCount(clamping: UInt64($0)) : nil })
    }
}

extension AppDatabase {
    /// The accounts the history holds that are not in `keeping`; with `remove`, deletes them
    /// and everything recorded about them (samples, roll-ups, folders, alert state,
    /// forecasts, failure counters, queued notices) in one transaction.
    public func accountsNotIn(_ keeping: Set<String>, remove: Bool) throws -> [String] {
        try writer.write { db in
            let gone = try String.fetchAll(db, sql: "SELECT id FROM account ORDER BY id").filter { !keeping.contains($0) }
            if remove {
                for id in gone {
                    try db.execute(sql: "DELETE FROM outbox WHERE account_id = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM account WHERE id = ?", arguments: [id])  // the rest cascades
                }
            }
            return gone
        }
    }
}
