import Foundation
import GRDB
import GRDBSQLite
import MailGaugeCore

/// The history database: one `AppDatabase` over a GRDB writer, migrated on open.
///
/// Each run is written in one transaction (run row, accounts, samples, failures, pruning),
/// so a run killed at any moment leaves the previous state intact, and readers (report,
/// serve's /metrics) never see half a run. WAL mode lets them read while a run writes.
public struct AppDatabase: Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating if needed) the database file in WAL mode, migrating it: the writer
    /// (`run`, `serve`, `accounts prune`).
    public init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        // Owner and group only from the first byte (SQLite gives its -wal and -shm files the
        // database's mode): history names every account and what it holds; the group is
        // for read-only readers (an Icinga/NRPE user added to the mailgauge group).
        // A database made by an older version (or by hand) keeps no wider mode: the
        // writer narrows it, and its -wal and -shm, to the same owner-and-group mode.
        let created = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        if created >= 0 {
            fchmod(created, 0o640)  // whatever the umask
            close(created)
        } else {
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            var info = stat()
            if fd >= 0, fstat(fd, &info) == 0, Int(info.st_mode) & 0o7137 != 0 { fchmod(fd, mode_t(Int(info.st_mode) & 0o640)) }
            if fd >= 0 { close(fd) }
        }
        for suffix in ["-wal", "-shm"] {
            var info = stat()
            if lstat(path + suffix, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_mode) & 0o7137 != 0 {
                chmod(path + suffix, mode_t(Int(info.st_mode) & 0o640))
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)  // a concurrent writer (serve + run) waits, never fails
        configuration.foreignKeysEnabled = true
        // Keep the -wal and -shm files when the last connection closes: a reader without
        // write access to the directory can then still open the database read-only
        // (SQLite ≥ 3.22 reads a WAL database whose -shm exists but is not writable).
        configuration.prepareDatabase { db in
            var persist: CInt = 1
            _ = sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
            // No checkpoint inside a commit: SQLite's automatic one ran in the commit of a
            // run (copying ~10,000 pages and syncing, a fifth of a 10,000-account pass)
            // before alerts or metrics could follow. A pass checkpoints once its outputs are
            // out (`checkpoint()`); closing the last connection checkpoints as well.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        try self.init(DatabasePool(path: path, configuration: configuration))
    }

    /// Copies what the write-ahead log holds into the database, without waiting for
    /// readers (what a reader still uses is copied by a later checkpoint). Called at the end
    /// of each pass, after its alerts and metrics: see the automatic checkpoint turned off
    /// in `init(path:)`.
    public func checkpoint() throws {
        try writer.writeWithoutTransaction { _ = try $0.checkpoint(.passive) }
    }

    /// Opens an existing database read-only and never migrates it: the readers (`report`,
    /// `history`, `check`, metrics rendering), so a user with read access alone can run
    /// them. A database from an older or newer mailgauge is a clear error.
    public static func openReadOnly(path: String) throws -> AppDatabase {
        guard FileManager.default.fileExists(atPath: path) else { throw ReadOnlyError.missing(path) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(30)
        let queue: DatabaseQueue
        let completed: Bool, superseded: Bool
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            (completed, superseded) = try queue.read { db in
                (try migrator.hasCompletedMigrations(db), try migrator.hasBeenSuperseded(db))
            }
        } catch let error as DatabaseError where [.SQLITE_READONLY, .SQLITE_CANTOPEN].contains(error.resultCode)
            && !FileManager.default.fileExists(atPath: path + "-shm") {
            // A WAL database needs its index (-shm); a reader that may not create it can
            // only use the one mailgauge's writer keeps.
            throw ReadOnlyError.noIndex(path)
        }
        if superseded { throw ReadOnlyError.newer(path) }
        if !completed { throw ReadOnlyError.older(path) }
        return AppDatabase(reading: queue)
    }

    public enum ReadOnlyError: Error, CustomStringConvertible {
        case missing(String), older(String), newer(String), noIndex(String)

        public var description: String {
            switch self {
            case .missing(let p): "no database at \(p) yet (run `mailgauge run` first)"
            case .older(let p): "\(p) was written by an older mailgauge: run `mailgauge run` once to upgrade it"
            case .newer(let p): "\(p) was written by a newer mailgauge than this one"
            case .noIndex(let p): "\(p): its WAL index \(p)-shm is missing and this user may not create it; run `mailgauge run` once (it keeps the index for readers)"
            }
        }
    }

    private init(reading queue: DatabaseQueue) {
        self.writer = queue
    }

    /// For tests: an in-memory database with the same schema.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue())
    }

    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    /// Migrations are plain SQL with string ids; a shipped migration is never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-history") { db in
            try db.execute(sql: """
                CREATE TABLE account (
                    id TEXT PRIMARY KEY NOT NULL,
                    user TEXT NOT NULL,
                    server TEXT NOT NULL,
                    first_seen REAL NOT NULL,
                    last_seen REAL NOT NULL,
                    last_success REAL,
                    consecutive_failures INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    started_at REAL NOT NULL,
                    finished_at REAL NOT NULL,
                    accounts INTEGER NOT NULL,
                    failures INTEGER NOT NULL
                );
                -- One row per account per run: success or the failure and its reason.
                CREATE TABLE probe (
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    ok INTEGER NOT NULL,
                    duration_seconds REAL NOT NULL,
                    attempts INTEGER NOT NULL,
                    quota_status TEXT,
                    method TEXT,
                    failure_reason TEXT,
                    failure_message TEXT,
                    PRIMARY KEY (run_id, account_id)
                );
                CREATE INDEX probe_account_at ON probe(account_id, at);
                CREATE VIEW failure AS
                    SELECT run_id, account_id, at, failure_reason AS reason, failure_message AS message
                    FROM probe WHERE ok = 0;
                -- Raw quota samples, exactly as the server reported (STORAGE in KiB).
                CREATE TABLE quota_sample (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    usage INTEGER NOT NULL,
                    "limit" INTEGER NOT NULL,
                    PRIMARY KEY (account_id, at, root, resource)
                );
                -- Older samples reduced to the largest usage per hour, then per day.
                CREATE TABLE quota_rollup (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    resolution TEXT NOT NULL CHECK (resolution IN ('hour', 'day')),
                    bucket REAL NOT NULL,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    usage INTEGER NOT NULL,
                    "limit" INTEGER NOT NULL,
                    samples INTEGER NOT NULL,
                    PRIMARY KEY (account_id, resolution, bucket, root, resource)
                );
                CREATE TABLE folder_sample (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    raw_name TEXT NOT NULL,
                    special_use TEXT NOT NULL,
                    messages INTEGER NOT NULL,
                    size_bytes INTEGER NOT NULL,
                    PRIMARY KEY (account_id, at, raw_name)
                );
                -- Alert memory (used by the alerts): one row per account, rule and resource.
                CREATE TABLE alert_state (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    rule TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    state TEXT NOT NULL,
                    since REAL NOT NULL,
                    last_notified REAL,
                    value REAL,
                    PRIMARY KEY (account_id, rule, resource)
                );
                """)
        }
        migrator.registerMigration("v2-failure-counter") { db in
            try db.execute(sql: """
                CREATE TABLE failure_count (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    reason TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (account_id, reason)
                );
                INSERT INTO failure_count (account_id, reason, count)
                    SELECT account_id, failure_reason, COUNT(*) FROM probe WHERE ok = 0 GROUP BY 1, 2;
                """)
        }
        migrator.registerMigration("v3-forecast") { db in
            try db.execute(sql: """
                -- When each quota resource will be full, computed at the end of each run.
                CREATE TABLE forecast (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    full_at REAL,
                    slope_per_second REAL,
                    status TEXT NOT NULL,
                    computed_at REAL NOT NULL,
                    PRIMARY KEY (account_id, root, resource)
                );
                """)
        }
        migrator.registerMigration("v4-outbox") { db in
            try db.execute(sql: """
                -- Notices waiting for a channel. Written in the same transaction as the
                -- alert states that produced them, deleted once delivered: a channel that
                -- is down delays a notice to a later run but never loses it.
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    channel TEXT NOT NULL,
                    account_id TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT
                );
                CREATE INDEX outbox_channel ON outbox(channel, id);
                -- Failed deliveries per channel kind, monotonic (a Prometheus counter).
                CREATE TABLE notification_failure (
                    channel TEXT PRIMARY KEY NOT NULL,
                    count INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5-server-alert") { db in
            try db.execute(sql: """
                -- The latest [ALERT] text the server sent for the account (RFC 3501 §7.1:
                -- it must reach a person), kept until a newer one arrives.
                ALTER TABLE account ADD COLUMN server_alert TEXT;
                ALTER TABLE account ADD COLUMN server_alert_at REAL;
                """)
        }
        migrator.registerMigration("v6-probe-schedule") { db in
            try db.execute(sql: """
                -- When the account is next due for a probe (adaptive polling), and why.
                ALTER TABLE account ADD COLUMN next_probe_at REAL;
                ALTER TABLE account ADD COLUMN next_probe_reason TEXT;
                """)
        }
        migrator.registerMigration("v7-hourly-series") { db in
            try db.execute(sql: """
                -- Each resource's largest usage per hour over the forecast window, kept up to
                -- date as samples arrive: what forecasts and the schedule read (336 rows per
                -- resource for 14 days, not 1,344 raw samples).
                CREATE TABLE quota_hourly (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    hour REAL NOT NULL,
                    usage INTEGER NOT NULL,
                    "limit" INTEGER NOT NULL,
                    PRIMARY KEY (account_id, root, resource, hour)
                ) WITHOUT ROWID;
                INSERT INTO quota_hourly (account_id, root, resource, hour, usage, "limit")
                    SELECT account_id, root, resource, hour, MAX(usage), MAX("limit") FROM (
                        SELECT account_id, root, resource, CAST(at / 3600 AS INTEGER) * 3600 AS hour, usage, "limit"
                        FROM quota_sample
                        UNION ALL
                        SELECT account_id, root, resource, bucket, usage, "limit" FROM quota_rollup WHERE resolution = 'hour')
                    GROUP BY 1, 2, 3, 4;
                -- What the schedule needs of a resource's history without reading it again.
                ALTER TABLE forecast ADD COLUMN fastest_growth REAL NOT NULL DEFAULT 0;
                ALTER TABLE forecast ADD COLUMN largest_rise REAL NOT NULL DEFAULT 0;
                -- When periodic whole-history work (the full prune) last ran.
                CREATE TABLE maintenance (
                    task TEXT PRIMARY KEY NOT NULL,
                    last_run REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v8-folder-reading") { db in
            try db.execute(sql: """
                -- When the account's folders were last read: a quota-only reading (bulk
                -- quota) moves last_success but not this, so its folders stay shown.
                ALTER TABLE account ADD COLUMN last_folders_at REAL;
                UPDATE account SET last_folders_at = last_success;
                """)
        }
        migrator.registerMigration("v9-server-health") { db in
            try db.execute(sql: """
                -- Each server endpoint's health after the latest pass that reached it: the TLS
                -- session and certificate of its connections, login latency, capabilities.
                CREATE TABLE server_health (
                    server TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    checked_at REAL NOT NULL,
                    tls_version TEXT,
                    cipher TEXT,
                    cert_not_after REAL,
                    chain_not_after REAL,
                    cert_subject TEXT,
                    cert_issuer TEXT,
                    cert_sans TEXT,
                    tls_failures INTEGER NOT NULL,
                    tls_failure TEXT,
                    logins INTEGER NOT NULL,
                    login_seconds_sum REAL NOT NULL,
                    login_p50 REAL, login_p90 REAL, login_p99 REAL, login_max REAL,
                    capabilities TEXT NOT NULL,
                    capabilities_changed_at REAL,
                    PRIMARY KEY (server, endpoint)
                );
                """)
        }
        migrator.registerMigration("v10-compact-series") { db in
            try db.execute(sql: """
                -- The hourly series as one row per resource (see HourlySeries): a forecast
                -- reads one blob, not 336 rows. Derived data: a missing or unreadable row is
                -- rebuilt from quota_sample and the hourly roll-ups.
                CREATE TABLE quota_series (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    root TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    last_hour INTEGER NOT NULL,
                    points BLOB NOT NULL,
                    PRIMARY KEY (account_id, root, resource)
                );
                """)
            try buildSeries(db, from: """
                SELECT account_id, root, resource, hour, usage, "limit" FROM quota_hourly ORDER BY account_id, root, resource, hour
                """)
            try db.execute(sql: "DROP TABLE quota_hourly")
        }
        migrator.registerMigration("v11-bulk-reading") { db in
            try db.execute(sql: """
                -- When each bulk quota source (a doveadm HTTP API) last answered: a reading
                -- every N passes needs to know the last one. Written with the run it fed.
                CREATE TABLE bulk_reading (
                    source TEXT PRIMARY KEY,
                    read_at REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v12-unknown-folder-size") { db in
            // SQLite cannot drop a NOT NULL: the table is rebuilt, rows and key unchanged.
            try db.execute(sql: """
                -- A folder whose size could not be represented (its messages add up past
                -- 2^63-1 bytes) is stored with size_bytes NULL: unknown, never a made-up maximum.
                CREATE TABLE folder_sample_v12 (
                    account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    raw_name TEXT NOT NULL,
                    special_use TEXT NOT NULL,
                    messages INTEGER NOT NULL,
                    size_bytes INTEGER,
                    PRIMARY KEY (account_id, at, raw_name)
                );
                INSERT INTO folder_sample_v12 SELECT account_id, at, run_id, name, raw_name, special_use, messages,
                    -- Earlier versions held an unrepresentable sum at 2^63-1: that was never a size.
                    NULLIF(size_bytes, 9223372036854775807) FROM folder_sample;
                DROP TABLE folder_sample;
                ALTER TABLE folder_sample_v12 RENAME TO folder_sample;
                """)
        }
        migrator.registerMigration("v13-bulk-reading-origin") { db in
            // Sources were full URLs (a token in one would sit in a database the mailgauge
            // group reads); now the origin every output shows. Forgetting the times costs
            // one doveadm reading on the next pass.
            try db.execute(sql: "DELETE FROM bulk_reading")
        }
        return migrator
    }
}
