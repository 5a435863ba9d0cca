import Foundation
import MailGaugeCore
import ScriptedServer
import Testing

/// `mailgauge check` (Nagios plugin) and the forecast-driven `filling` alert over real runs.
@Suite("check and forecast over real runs", .serialized, .requires(.dovecot, .sqlite3))
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
    func perfdata(_ dovecot: TestDovecot, _ user: String, label: String = "storage") async throws -> String {
        let q = try #require(try await dovecot.doveadmQuota(user).first { $0.resource == "STORAGE" })
        let limit = try #require(q.limit) * 1024
        return "'\(label)'=\(q.value * 1024)B;\(UInt64((Double(limit) * 0.80).rounded(.down)));\(UInt64((Double(limit) * 0.95).rounded(.down)));0;\(limit)"
    }

    @Test("check: OK, WARNING, CRITICAL, UNKNOWN with exit codes 0-3 and perfdata from doveadm's figures")
    func nagiosCheck() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-check")
        let config = try Self.config(dovecot, dir: dir, accounts: ["alice", "ivan", "carol"], wrong: true)
        func check(_ args: [String]) async throws -> Subprocess.Output {
            try await Subprocess.run(Paths.mailgauge, ["check", "--config", config] + args, timeoutSeconds: 60)
        }
        let before = try await check([])
        #expect(before.status == 3 && before.stdout.hasPrefix("MAILGAUGE UNKNOWN - no database at"), "\(before.stdout)")

        _ = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        // `report` shows the alerts firing now beside the figures.
        let report = try await Subprocess.run(Paths.mailgauge, ["report", "-c", config, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [[String: Any]])
        let alerts = Dictionary(uniqueKeysWithValues: rows.map { ($0["account"] as? String ?? "", $0["alerts"] as? [String] ?? []) })
        #expect(alerts == ["carol": ["critical STORAGE"], "ivan": ["warning STORAGE"], "alice": [], "locked": []], "\(report.stdout)")

        let alice = try await check(["--account", "alice"])
        #expect(alice.status == 0)
        #expect(alice.stdout.hasPrefix("MAILGAUGE OK - alice: STORAGE "), "\(alice.stdout)")
        let alicePerfdata = try await perfdata(dovecot, "alice")
        #expect(alice.stdout.contains(" | \(alicePerfdata)"), "\(alice.stdout)")

        let ivan = try await check(["--account", "ivan"])
        let ivanStorage = try #require(try await dovecot.doveadmQuota("ivan").first { $0.resource == "STORAGE" })
        let ivanPercent = SizeFormat.percent(Double(ivanStorage.value) / Double(try #require(ivanStorage.limit)))
        #expect(ivan.status == 1 && ivan.stdout.hasPrefix("MAILGAUGE WARNING - ivan: STORAGE \(ivanPercent) "), "\(ivan.stdout)")

        let carol = try await check(["--account", "carol"])
        #expect(carol.status == 2 && carol.stdout.hasPrefix("MAILGAUGE CRITICAL - carol: MESSAGE "), "\(carol.stdout)")
        let messages = try #require(try await dovecot.doveadmQuota("carol").first { $0.resource == "MESSAGE" })
        #expect(carol.stdout.contains("'message'=\(messages.value);320;380;0;400"), "\(carol.stdout)")
        let carolPerfdata = try await perfdata(dovecot, "carol")
        #expect(carol.stdout.contains(carolPerfdata), "\(carol.stdout)")

        let locked = try await check(["--account", "locked"])
        #expect(locked.status == 3 && locked.stdout.hasPrefix("MAILGAUGE UNKNOWN - locked: latest probe failed: auth:"), "\(locked.stdout)")
        #expect(try await check(["--account", "nobody"]).status == 3)

        let all = try await check([])
        #expect(all.status == 2)
        let lines = all.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("MAILGAUGE CRITICAL - 4 accounts: 1 critical, 1 warning, 1 unknown | ") == true, "\(all.stdout)")
        let ivanPerfdata = try await perfdata(dovecot, "ivan", label: "ivan_storage")
        #expect(lines.first?.contains(ivanPerfdata) == true)
        #expect(Array(lines.dropFirst().map { $0.prefix(while: { $0 != ":" }) }) == ["[CRITICAL] carol", "[WARNING] ivan", "[UNKNOWN] locked"])

        // A fresh probe instead of the stored state.
        let probed = try await check(["--account", "carol", "--probe"])
        let carolPerf = try await perfdata(dovecot, "carol")
        #expect(probed.status == 2 && probed.stdout.contains(carolPerf), "\(probed.stdout)")

        // Stored data older than --max-age is UNKNOWN.
        try await Task.sleep(for: .milliseconds(1100))
        let stale = try await check(["--account", "alice", "--max-age", "1s"])
        #expect(stale.status == 3 && stale.stdout.contains("data is stale"), "\(stale.stdout)")
    }

    @Test("history of steady growth: filling fires (and check warns) while usage is still below warning")
    func fillingBeforeWarning() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-filling")
        let config = try Self.config(dovecot, dir: dir, accounts: ["alice"])
        let first = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(first.status == 0 && !first.stdout.contains("ALERT"), "alice is at 50 %: \(first.stdout)")

        // 48 hours of growth before now, 1500 → 2450 KiB of alice's 5000 KiB: ≈ 20 KiB an
        // hour, so her quota fills in ≈ 5 days, inside the 7-day horizon.
        let q = try #require(try await dovecot.doveadmQuota("alice").first { $0.resource == "STORAGE" })
        let limit = try #require(q.limit)
        let hour = (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600
        var sql = "BEGIN;"
        for i in 0..<48 {
            let usage = 1500 + (2450 - 1500) * i / 47
            sql += "INSERT INTO quota_rollup VALUES ('alice', 'hour', \(hour - Double(48 - i) * 3600), 'User quota', 'STORAGE', \(usage), \(limit), 1);"
        }
        sql += "DELETE FROM forecast WHERE account_id = 'alice'; DELETE FROM quota_series WHERE account_id = 'alice'; COMMIT;"
        let seeded = try await Subprocess.run("/usr/bin/sqlite3", [dir.appendingPathComponent("mailgauge.sqlite").path, sql])
        #expect(seeded.status == 0, "\(seeded.stderr)")

        let second = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        let alerts = second.stdout.split(separator: "\n").filter { $0.hasPrefix("ALERT") }
        #expect(alerts.count == 1, "\(second.stdout)")
        #expect(alerts.first?.hasPrefix("ALERT firing filling alice STORAGE: full in ") == true, "\(second.stdout)")
        let days = Double(alerts.first?.split(separator: " ")[7] ?? "") ?? 0
        #expect(days > 3 && days < 7, "≈ 5 days: \(alerts)")
        #expect(Double(q.value) / Double(limit) < 0.80, "still below warning")

        let check = try await Subprocess.run(Paths.mailgauge, ["check", "--config", config, "--account", "alice"])
        #expect(check.status == 1 && check.stdout.contains(", full by "), "\(check.stdout)")
    }

    @Test("check as the plugin guidelines say: -w/-c ranges override the config, percentage perfdata, -t, exit 3 for usage, help and version")
    func pluginGuidelines() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-plugin")
        let config = try Self.config(dovecot, dir: dir, accounts: ["alice", "carol"])
        #expect(try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120).status == 0)
        func check(_ args: [String], environment: [String: String]? = nil) async throws -> Subprocess.Output {
            try await Subprocess.run(Paths.mailgauge, ["check"] + args, environment: environment, timeoutSeconds: 60)
        }
        let alice = try #require(try await dovecot.doveadmQuota("alice").first { $0.resource == "STORAGE" })
        let alicePercent = Double(alice.value) / Double(try #require(alice.limit)) * 100  // ≈ 50
        // The config says 80/95; the ranges say otherwise.
        let warn = try await check(["--config", config, "--account", "alice", "-w", "40", "-c", "60"])
        #expect(warn.status == 1 && warn.stdout.hasPrefix("MAILGAUGE WARNING - alice: STORAGE "), "\(warn.stdout)")
        #expect(warn.stdout.contains("'storage_pct'=\(SizeFormat.fixed(alicePercent, digits: 2))%;40;60;0;100"), "\(warn.stdout)")
        let limit = try #require(alice.limit) * 1024
        #expect(warn.stdout.contains(";\(limit * 40 / 100);\(limit * 60 / 100);0;\(limit)"), "byte thresholds from the ranges: \(warn.stdout)")
        let crit = try await check(["--config", config, "--account", "alice", "--critical", "45"])
        #expect(crit.status == 2, "\(crit.stdout)")
        let inverted = try await check(["--config", config, "--account", "alice", "-c", "@40:60"])
        #expect(inverted.status == 2, "inside 40..60 alerts with @: \(inverted.stdout)")
        let relaxed = try await check(["--config", config, "--account", "carol", "-w", "99", "-c", "99.5"])
        #expect(relaxed.status == 0 && relaxed.stdout.hasPrefix("MAILGAUGE OK - carol:"), "carol's 97 % is fine by -c 99.5: \(relaxed.stdout)")
        // MAILGAUGE_CONFIG names the config when --config does not.
        let env = ProcessInfo.processInfo.environment.merging(["MAILGAUGE_CONFIG": config]) { $1 }
        let fromEnv = try await check(["--account", "alice"], environment: env)
        #expect(fromEnv.status == 0 && fromEnv.stdout.hasPrefix("MAILGAUGE OK - alice:"), "\(fromEnv.stdout)")
        // Usage errors, help and version are UNKNOWN.
        for args in [["--bogus"], ["--help"], ["-V"], ["--config", config, "-w", "20:10"], ["--config", config, "-t", "0"]] {
            let out = try await check(args)
            #expect(out.status == 3, "\(args): \(out.stdout)\(out.stderr)")
        }
        // -t: a server that accepts and never answers; the probe's own timeout is 30 s.
        let silent = try await ScriptedIMAPServer(greeting: nil) { _, _, _ in nil }
        defer { Task { await silent.close() } }
        let slow = dir.appendingPathComponent("slow.yml").path
        try """
            database: \(dir.path)/slow.sqlite
            servers: { silent: { host: 127.0.0.1, port: \(silent.port), tls: none, timeout: 30s } }
            accounts: [ { id: mute, user: mute, server: silent, password_file: \(try TestFiles.secret("pw", in: dir)) } ]
            """.write(toFile: slow, atomically: true, encoding: .utf8)
        let clock = ContinuousClock(), started = clock.now
        let timedOut = try await check(["--config", slow, "--probe", "-t", "2"])
        #expect(timedOut.status == 3 && timedOut.stdout == "MAILGAUGE UNKNOWN - timed out after 2 s (-t)\n", "\(timedOut.stdout)")
        #expect(started.duration(to: clock.now) < .seconds(20))
    }
}
