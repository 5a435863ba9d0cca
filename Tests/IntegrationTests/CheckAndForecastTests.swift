import Foundation
import MailGaugeCore
import Testing

/// `mailgauge check` (Nagios plugin) and the forecast-driven `filling` alert over real runs.
@Suite("check and forecast over real runs", .serialized)
struct CheckAndForecastTests {
    static func config(_ dovecot: TestDovecot, dir: URL, accounts: [String], wrong: Bool = false) throws -> String {
        let path = dir.appendingPathComponent("mailgauge.yml").path
        var lines = accounts.map { "  - { id: \($0), user: \($0), password_file: \(dovecot.secretFile($0)) }" }
        if wrong { lines.append("  - { id: locked, user: dave, password_file: \(try TestFiles.secret("wrong", in: dir)) }") }
        try """
            \(TestConfig.header(dovecot, dir: dir))
            accounts:
            \(lines.joined(separator: "\n"))
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The perfdata doveadm's figures call for: 'label'=USEDB;WARN;CRIT;0;LIMITB.
    func perfdata(_ dovecot: TestDovecot, _ user: String, label: String = "storage") throws -> String {
        let q = try #require(try dovecot.doveadmQuota(user).first { $0.resource == "STORAGE" })
        let limit = try #require(q.limit) * 1024
        return "'\(label)'=\(q.value * 1024)B;\(UInt64((Double(limit) * 0.80).rounded(.down)));\(UInt64((Double(limit) * 0.95).rounded(.down)));0;\(limit)"
    }

    @Test("check: OK, WARNING, CRITICAL, UNKNOWN with exit codes 0-3 and perfdata from doveadm's figures")
    func nagiosCheck() throws {
        let dovecot = try TestDovecot.shared()
        let dir = try TestFiles.directory("mg-check")
        let config = try Self.config(dovecot, dir: dir, accounts: ["alice", "hank", "carol"], wrong: true)
        func check(_ args: [String]) throws -> Subprocess.Output {
            try Subprocess.run(Paths.mailgauge, ["check", "-c", config] + args, timeoutSeconds: 60)
        }
        let before = try check([])
        #expect(before.status == 3 && before.stdout.hasPrefix("MAILGAUGE UNKNOWN - no database at"), "\(before.stdout)")

        _ = try Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        // `report` shows the alerts firing now beside the figures.
        let report = try Subprocess.run(Paths.mailgauge, ["report", "-c", config, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [[String: Any]])
        let alerts = Dictionary(uniqueKeysWithValues: rows.map { ($0["account"] as? String ?? "", $0["alerts"] as? [String] ?? []) })
        #expect(alerts == ["carol": ["critical STORAGE"], "hank": ["warning STORAGE"], "alice": [], "locked": []], "\(report.stdout)")

        let alice = try check(["--account", "alice"])
        #expect(alice.status == 0)
        #expect(alice.stdout.hasPrefix("MAILGAUGE OK - alice: STORAGE "), "\(alice.stdout)")
        #expect(alice.stdout.contains(" | \(try perfdata(dovecot, "alice"))"), "\(alice.stdout)")

        let hank = try check(["--account", "hank"])
        #expect(hank.status == 1 && hank.stdout.hasPrefix("MAILGAUGE WARNING - hank: STORAGE 84."), "\(hank.stdout)")

        let carol = try check(["--account", "carol"])
        #expect(carol.status == 2 && carol.stdout.hasPrefix("MAILGAUGE CRITICAL - carol: MESSAGE "), "\(carol.stdout)")
        let messages = try #require(try dovecot.doveadmQuota("carol").first { $0.resource == "MESSAGE" })
        #expect(carol.stdout.contains("'message'=\(messages.value);320;380;0;400"), "\(carol.stdout)")
        #expect(carol.stdout.contains(try perfdata(dovecot, "carol")), "\(carol.stdout)")

        let locked = try check(["--account", "locked"])
        #expect(locked.status == 3 && locked.stdout.hasPrefix("MAILGAUGE UNKNOWN - locked: latest probe failed: auth:"), "\(locked.stdout)")
        #expect(try check(["--account", "nobody"]).status == 3)

        let all = try check([])
        #expect(all.status == 2)
        let lines = all.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("MAILGAUGE CRITICAL - 4 accounts: 1 critical, 1 warning, 1 unknown | ") == true, "\(all.stdout)")
        #expect(lines.first?.contains(try perfdata(dovecot, "hank", label: "hank_storage")) == true)
        #expect(Array(lines.dropFirst().map { $0.prefix(while: { $0 != ":" }) }) == ["[CRITICAL] carol", "[WARNING] hank", "[UNKNOWN] locked"])

        // A fresh probe instead of the stored state.
        let probed = try check(["--account", "carol", "--probe"])
        let carolPerf = try perfdata(dovecot, "carol")
        #expect(probed.status == 2 && probed.stdout.contains(carolPerf), "\(probed.stdout)")

        // Stored data older than --max-age is UNKNOWN.
        usleep(1_100_000)
        let stale = try check(["--account", "alice", "--max-age", "1s"])
        #expect(stale.status == 3 && stale.stdout.contains("data is stale"), "\(stale.stdout)")
    }

    @Test("history of steady growth: filling fires (and check warns) while usage is still below warning")
    func fillingBeforeWarning() throws {
        let dovecot = try TestDovecot.shared()
        let dir = try TestFiles.directory("mg-filling")
        let config = try Self.config(dovecot, dir: dir, accounts: ["alice"])
        let first = try Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        #expect(first.status == 0 && !first.stdout.contains("ALERT"), "alice is at 50 %: \(first.stdout)")

        // 48 hours of growth before now, 1500 → 2450 KiB of alice's 5000 KiB: ≈ 20 KiB an
        // hour, so her quota fills in ≈ 5 days, inside the 7-day horizon.
        let q = try #require(try dovecot.doveadmQuota("alice").first { $0.resource == "STORAGE" })
        let limit = try #require(q.limit)
        let hour = (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600
        var sql = "BEGIN;"
        for i in 0..<48 {
            let usage = 1500 + (2450 - 1500) * i / 47
            sql += "INSERT INTO quota_rollup VALUES ('alice', 'hour', \(hour - Double(48 - i) * 3600), 'User quota', 'STORAGE', \(usage), \(limit), 1);"
        }
        sql += "COMMIT;"
        let seeded = try Subprocess.run("/usr/bin/sqlite3", [dir.appendingPathComponent("mailgauge.sqlite").path, sql])
        #expect(seeded.status == 0, "\(seeded.stderr)")

        let second = try Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        let alerts = second.stdout.split(separator: "\n").filter { $0.hasPrefix("ALERT") }
        #expect(alerts.count == 1, "\(second.stdout)")
        #expect(alerts.first?.hasPrefix("ALERT firing filling alice STORAGE: full in ") == true, "\(second.stdout)")
        let days = Double(alerts.first?.split(separator: " ")[7] ?? "") ?? 0
        #expect(days > 3 && days < 7, "≈ 5 days: \(alerts)")
        #expect(Double(q.value) / Double(limit) < 0.80, "still below warning")

        let check = try Subprocess.run(Paths.mailgauge, ["check", "-c", config, "--account", "alice"])
        #expect(check.status == 1 && check.stdout.contains(", full by "), "\(check.stdout)")
    }
}
