import Foundation
import Testing

/// `report`, `history` and `check` read the history without writing it: run as an
/// unprivileged user (nobody) who can only read the database, in a directory nobody can
/// write, they work and leave every byte as it was.
@Suite("read-only readers", .requires(.dovecot, .sqlite3, .setpriv))
struct ReadOnlyReadersTests {
    /// Runs mailgauge as nobody:nogroup with no supplementary groups (setpriv, util-linux).
    static func asNobody(_ arguments: [String]) async throws -> Subprocess.Output {
        try await Subprocess.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Paths.mailgauge] + arguments)
    }

    static func digest(_ dir: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasPrefix("mailgauge.sqlite") {
            files[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return files
    }

    @Test("report, history and check as a user with read access alone; nothing written")
    func readers() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-readonly")
        let config = try CheckAndForecastTests.config(dovecot, dir: dir, accounts: ["alice", "carol"])
        let run = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        #expect(run.status == 0, "\(run.stderr)")
        // Readable by all, writable by none but root; the directory too (no new -shm, no journal).
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: dir.path) {
            try fm.setAttributes([.posixPermissions: name.hasSuffix(".pass") ? 0o600 : 0o644], ofItemAtPath: dir.appendingPathComponent(name).path)
        }
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        #expect(fm.fileExists(atPath: dir.appendingPathComponent("mailgauge.sqlite-shm").path), "the writer keeps its WAL index for readers")
        let before = try Self.digest(dir)

        let report = try await Self.asNobody(["report", "-c", config, "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("\"account\" : \"carol\"") || report.stdout.contains("\"account\":\"carol\""), "\(report.stdout)")
        let history = try await Self.asNobody(["history", "-c", config, "alice", "--format", "csv"])
        #expect(history.status == 0 && history.stdout.split(separator: "\n").count >= 2, "\(history.stdout)\(history.stderr)")
        let check = try await Self.asNobody(["check", "--config", config, "--account", "carol"])
        #expect(check.status == 2 && check.stdout.hasPrefix("MAILGAUGE CRITICAL - carol:"), "\(check.stdout)\(check.stderr)")
        #expect(try Self.digest(dir) == before, "the readers wrote nothing")

        // A database from an older mailgauge is not migrated by a reader: a clear error.
        let sqlite = dir.appendingPathComponent("mailgauge.sqlite").path
        // (.filectrl persist_wal: keep the WAL index, as mailgauge's own writer does.)
        let older = try await Subprocess.run("/usr/bin/sqlite3", [sqlite, ".filectrl persist_wal 1", "DELETE FROM grdb_migrations WHERE identifier = (SELECT MAX(identifier) FROM grdb_migrations)"])
        #expect(older.status == 0, "\(older.stderr)")
        let stale = try await Self.asNobody(["report", "-c", config])
        #expect(stale.status != 0 && stale.stderr.contains("was written by an older mailgauge: run `mailgauge run` once to upgrade it"), "\(stale.stderr)")
    }
}
