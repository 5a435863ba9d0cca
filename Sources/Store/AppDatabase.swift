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
}
