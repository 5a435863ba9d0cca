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
                """, arguments: [account, since.timeIntervalSince1970, account, since.timeIntervalSince1970]).map(Self.quotaPoint)
        }
    }

    public func folderHistory(account: String, since: Date) throws -> [FolderPoint] {
        try writer.read { db in
            try Row.fetchAll(db, sql: """
                SELECT at, name, special_use, messages, size_bytes FROM folder_sample
                WHERE account_id = ? AND at >= ? ORDER BY at, size_bytes DESC
                """, arguments: [account, since.timeIntervalSince1970]).map(Self.folderPoint)
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
                """, arguments: [account]).map(Self.folderPoint)
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
    public func storedState() throws -> StoredState {
        try writer.read { db in
            var state = StoredState(states: try Self.latestStates(db), failureCounts: try Self.failureCounts(db), lastRun: try Self.lastRun(db),
                                    notificationFailures: try Self.notificationFailureCounts(db),
                                    notificationsPending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0)
            state.servers = try Self.serverHealth(db)
            return state
        }
    }

    /// `withFolders: false` leaves each state's folders empty: alert evaluation reads every
    /// account and needs none of their ten-odd folder rows.
    static func latestStates(_ db: Database, withFolders: Bool = true) throws -> [AccountState] {
        // Cursors, not fetchAll: at 10,000 accounts the rows fetched all at once (accounts,
        // 20,000 quota points, 100,000 folders) were a large share of a run's peak memory.
        // The quota and folders of each account's last successful probe. CROSS JOIN keeps
        // the account table outside: a lookup by primary key per account, never a scan of
        // the samples (millions of rows at 10,000 accounts × 14 days).
        var quota: [String: [QuotaPoint]] = [:]
        let quotaRows = try Row.fetchCursor(db, sql: """
            SELECT q.account_id, q.at, q.root, q.resource, q.usage, q."limit", 'raw' AS resolution
            FROM account a CROSS JOIN quota_sample q ON q.account_id = a.id AND q.at = a.last_success
            ORDER BY q.account_id, q.root, q.resource
            """)
        while let row = try quotaRows.next() { quota[row["account_id"], default: []].append(Self.quotaPoint(row)) }
        var folders: [String: [FolderPoint]] = [:]
        if withFolders {
            let folderRows = try Row.fetchCursor(db, sql: """
                SELECT f.account_id, f.at, f.name, f.special_use, f.messages, f.size_bytes
                FROM account a CROSS JOIN folder_sample f ON f.account_id = a.id AND f.at = a.last_folders_at
                ORDER BY f.account_id, f.size_bytes DESC, f.name
                """)
            while let row = try folderRows.next() { folders[row["account_id"], default: []].append(Self.folderPoint(row)) }
        }
        var forecasts: [String: [StoredForecast]] = [:]
        let forecastRows = try Row.fetchCursor(db, sql: "SELECT * FROM forecast ORDER BY account_id, root, resource")
        while let row = try forecastRows.next() {
            forecasts[row["account_id"], default: []].append(StoredForecast(
                root: row["root"], resource: row["resource"],
                fullAt: (row["full_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                slopePerSecond: row["slope_per_second"], status: row["status"]))
        }
        var states: [AccountState] = []
        let accounts = try Row.fetchCursor(db, sql: """
            SELECT a.id, a.user, a.server, a.last_seen, a.last_success, a.consecutive_failures,
                   a.server_alert, a.server_alert_at, a.next_probe_at, a.next_probe_reason, p.ok, p.duration_seconds, p.failure_reason, p.failure_message, p.quota_status
            FROM account a
            LEFT JOIN probe p ON p.account_id = a.id AND p.at = a.last_seen
            ORDER BY a.id
            """)
        while let row = try accounts.next() {
            let id: String = row["id"]
            states.append(AccountState(
                id: id, user: row["user"], server: row["server"],
                lastSeen: Date(timeIntervalSince1970: row["last_seen"]),
                lastSuccess: (row["last_success"] as Double?).map(Date.init(timeIntervalSince1970:)),
                consecutiveFailures: row["consecutive_failures"],
                lastProbeOK: (row["ok"] as Bool?) ?? false, lastProbeDuration: (row["duration_seconds"] as Double?) ?? 0,
                failureReason: row["failure_reason"], failureMessage: row["failure_message"],
                quotaStatus: row["quota_status"], quota: quota.removeValue(forKey: id) ?? [], folders: folders.removeValue(forKey: id) ?? [],
                forecasts: forecasts.removeValue(forKey: id) ?? [], serverAlert: row["server_alert"],
                serverAlertAt: (row["server_alert_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                nextProbeAt: (row["next_probe_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                nextProbeReason: row["next_probe_reason"]))
        }
        return states
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

    static func quotaPoint(_ row: Row) -> QuotaPoint {
        QuotaPoint(at: Date(timeIntervalSince1970: row["at"]), root: row["root"], resource: row["resource"],
                   usage: UInt64(max(0, row["usage"] as Int64)), limit: UInt64(max(0, row["limit"] as Int64)),
                   resolution: row["resolution"])
    }

    static func folderPoint(_ row: Row) -> FolderPoint {
        let special: String = row["special_use"]
        return FolderPoint(at: Date(timeIntervalSince1970: row["at"]), name: row["name"],
                           specialUse: special.split(separator: " ").map(String.init),
                           messages: UInt64(max(0, row["messages"] as Int64)), sizeBytes: ByteCount(clamping: UInt64(max(0, row["size_bytes"] as Int64))))
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
