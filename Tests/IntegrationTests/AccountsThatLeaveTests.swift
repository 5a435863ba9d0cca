import Foundation
import Testing

/// An account removed from the config leaves the metrics, the report and the alerts at
/// once; its history stays until `accounts prune` deletes it.
@Suite("accounts that leave", .requires(.dovecot, .sqlite3))
struct AccountsThatLeaveTests {
    @Test("removed from the config: gone from metrics, report and check; prune deletes its history")
    func removedAccount() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-leave")
        let textfile = dir.appendingPathComponent("mailgauge.prom").path
        func write(_ accounts: [String]) throws -> String {
            let path = try CheckAndForecastTests.config(dovecot, dir: dir, accounts: accounts)
            let yaml = try String(contentsOfFile: path, encoding: .utf8) + "\nmetrics: { textfile: \(textfile) }\n"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let both = try write(["alice", "carol"])
        let first = try await Subprocess.run(Paths.mailgauge, ["run", "-c", both], timeoutSeconds: 120)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try String(contentsOfFile: textfile, encoding: .utf8).contains("mailgauge_up{account=\"carol\"} 1"))

        // carol leaves the config (critical alert still firing in the database).
        let alone = try write(["alice"])
        let second = try await Subprocess.run(Paths.mailgauge, ["run", "-c", alone], timeoutSeconds: 120)
        #expect(second.status == 0, "\(second.stderr)")
        let metrics = try String(contentsOfFile: textfile, encoding: .utf8)
        #expect(!metrics.contains("carol") && metrics.contains("mailgauge_up{account=\"alice\"} 1"), "\(metrics)")
        let report = try await Subprocess.run(Paths.mailgauge, ["report", "-c", alone, "--format", "csv"])
        #expect(report.status == 0 && !report.stdout.contains("carol") && report.stdout.contains("alice"), "\(report.stdout)")
        let check = try await Subprocess.run(Paths.mailgauge, ["check", "--config", alone])
        #expect(check.status == 0 && check.stdout.hasPrefix("MAILGAUGE OK - alice:"), "\(check.stdout)")

        // Her history is still there until pruned.
        let history = try await Subprocess.run(Paths.mailgauge, ["history", "-c", alone, "carol", "--format", "csv"])
        #expect(history.status == 0 && history.stdout.split(separator: "\n").count >= 2, "\(history.stdout)\(history.stderr)")
        let dry = try await Subprocess.run(Paths.mailgauge, ["accounts", "prune", "-c", alone, "--dry-run"])
        #expect(dry.stdout == "would remove 1 account no longer in the config: carol\n", "\(dry.stdout)\(dry.stderr)")
        let prune = try await Subprocess.run(Paths.mailgauge, ["accounts", "prune", "-c", alone])
        #expect(prune.status == 0 && prune.stdout == "removed 1 account no longer in the config: carol\n", "\(prune.stdout)\(prune.stderr)")
        let sqlite = dir.appendingPathComponent("mailgauge.sqlite").path
        for table in ["account", "probe", "quota_sample", "folder_sample", "alert_state", "forecast", "outbox"] {
            let rows = try await Subprocess.run("/usr/bin/sqlite3", [sqlite, "SELECT COUNT(*) FROM \(table) WHERE \(table == "account" ? "id" : "account_id") = 'carol'"])
            #expect(rows.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(table): \(rows.stdout)\(rows.stderr)")
        }
        let again = try await Subprocess.run(Paths.mailgauge, ["accounts", "prune", "-c", alone])
        #expect(again.stdout == "every account in the history is in the config\n")
    }
}
