import Foundation
import Testing

/// The shipped Prometheus rules pass promtool's checks and unit tests.
@Suite("deploy files", .requires(.dovecot, .promtool, .systemdAnalyze))
struct DeployTests {
    @Test("promtool check rules and promtool test rules")
    func prometheusRules() async throws {
        let dir = Paths.repository.appendingPathComponent("deploy/prometheus").path
        let check = try await Subprocess.run("/usr/bin/promtool", ["check", "rules", "\(dir)/mailgauge.rules.yml"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 16 rules found"))
        let test = try await Subprocess.run("/usr/bin/promtool", ["test", "rules", "\(dir)/mailgauge.rules.test.yml"])
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("SUCCESS"))
    }
}

extension DeployTests {
    static let units = ["mailgauge.service", "mailgauge.timer", "mailgauge-serve.service"]

    @Test("systemd-analyze security: both services' exposure stays low (≤ 2.0, \"OK\")")
    func unitSecurity() async throws {
        for unit in ["mailgauge.service", "mailgauge-serve.service"] {
            let path = Paths.repository.appendingPathComponent("deploy/systemd/\(unit)").path
            let out = try await Subprocess.run("/usr/bin/systemd-analyze", ["security", "--offline=yes", "--no-pager", path])
            let last = out.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let score = last.split(separator: " ").compactMap { Double($0) }.first
            #expect(score.map { $0 <= 2.0 } == true, "\(unit): \(last)\(out.stderr)")
        }
    }

    @Test("scripts/release/install into DESTDIR: binary, units, config, dashboards; systemd-analyze verify passes; uninstall removes them")
    func installIntoDestdir() async throws {
        let root = try TestFiles.directory("mg-destdir")
        let install = Paths.repository.appendingPathComponent("scripts/release/install").path
        var env = ProcessInfo.processInfo.environment
        env["DESTDIR"] = root.path
        let out = try await Subprocess.run(install, ["--binary", Paths.mailgauge], environment: env)
        #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
        let fm = FileManager.default
        func mode(_ path: String) -> Int? { (try? fm.attributesOfItem(atPath: root.path + path))?[.posixPermissions] as? Int }
        #expect(fm.isExecutableFile(atPath: root.path + "/usr/local/bin/mailgauge"))
        for unit in Self.units { #expect(mode("/etc/systemd/system/\(unit)") == 0o644, "\(unit)") }
        #expect(mode("/etc/mailgauge/mailgauge.yml") == 0o640)
        #expect(mode("/etc/mailgauge/credentials") == 0o700)
        #expect(mode("/var/lib/mailgauge") == 0o750)
        for file in ["dashboards/mailgauge.json", "prometheus/mailgauge.rules.yml", "examples/cron.mailgauge", "examples/mailgauge.yml"] {
            #expect(fm.fileExists(atPath: root.path + "/usr/local/share/mailgauge/" + file), "\(file)")
        }
        // The installed binary runs and prints the example config it was built with.
        let example = try await Subprocess.run(root.path + "/usr/local/bin/mailgauge", ["config", "example"])
        #expect(example.stdout == (try String(contentsOfFile: root.path + "/etc/mailgauge/mailgauge.yml", encoding: .utf8)))

        // systemd-analyze verify, with ExecStart pointing into the staging tree (the units
        // name /usr/local/bin/mailgauge, which is not installed on the test machine).
        let verifyDir = try TestFiles.directory("mg-units")
        for unit in Self.units {
            let text = try String(contentsOfFile: root.path + "/etc/systemd/system/\(unit)", encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/mailgauge", with: root.path + "/usr/local/bin/mailgauge")
            try text.write(to: verifyDir.appendingPathComponent(unit), atomically: true, encoding: .utf8)
        }
        let verify = try await Subprocess.run("/usr/bin/systemd-analyze", ["verify"] + Self.units.map { verifyDir.appendingPathComponent($0).path })
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.stdout)\(verify.stderr)")
        let security = try String(contentsOfFile: root.path + "/etc/systemd/system/mailgauge.service", encoding: .utf8)
        for directive in ["ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
                          "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "StateDirectory=mailgauge", "LoadCredential="] {
            #expect(security.contains(directive), "\(directive)")
        }

        let uninstall = try await Subprocess.run(install, ["--uninstall"], environment: env)
        #expect(uninstall.status == 0)
        #expect(!fm.fileExists(atPath: root.path + "/usr/local/bin/mailgauge"))
        #expect(!fm.fileExists(atPath: root.path + "/etc/systemd/system/mailgauge.service"))
        #expect(fm.fileExists(atPath: root.path + "/etc/mailgauge/mailgauge.yml"), "config kept")
    }

    @Test("config example: the shipped file, and valid once its secrets exist")
    func configExample() async throws {
        let out = try await Subprocess.run(Paths.mailgauge, ["config", "example"])
        let shipped = try String(contentsOf: Paths.repository.appendingPathComponent("deploy/config.example.yml"), encoding: .utf8)
        #expect(out.status == 0 && out.stdout == shipped)
        // Point its secret files into a temporary directory and give it the credentials
        // and environment it names: `config check` then finds nothing wrong.
        let dir = try TestFiles.directory("mg-example")
        for name in ["alice.pass", "dan.token", "master.pass", "smtp.pass"] { _ = try TestFiles.secret("x", in: dir, name: name) }
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try shipped.replacingOccurrences(of: "/etc/mailgauge/credentials/", with: dir.path + "/")
            .replacingOccurrences(of: "/var/lib/", with: dir.path + "/")
            .write(toFile: config, atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["CREDENTIALS_DIRECTORY"] = dir.path
        env["MAILGAUGE_BOB_PASSWORD"] = "x"
        let check = try await Subprocess.run(Paths.mailgauge, ["config", "check", config], environment: env)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(!check.stderr.contains("warning"), "\(check.stderr)")
    }

    @Test("cron example: its command line runs a pass under flock, and a second one while the lock is held does nothing")
    func cronExample() async throws {
        let cron = try String(contentsOf: Paths.repository.appendingPathComponent("deploy/cron/mailgauge"), encoding: .utf8)
        let entry = try #require(cron.split(separator: "\n").first { !$0.hasPrefix("#") && $0.hasPrefix("*/15") })
        let fields = entry.split(separator: " ", maxSplits: 6).map(String.init)
        try #require(fields.count == 7)
        #expect(fields[5] == "mailgauge", "runs as the mailgauge user")
        // The command field, pointed at a test config, lock and log.
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-cron")
        let config = try CheckAndForecastTests.config(dovecot, dir: dir, accounts: ["alice"])
        let command = fields[6]
            .replacingOccurrences(of: "/var/lib/mailgauge/cron.lock", with: "\(dir.path)/cron.lock")
            .replacingOccurrences(of: "/etc/mailgauge/mailgauge.yml", with: config)
            .replacingOccurrences(of: "/var/log/mailgauge/run.log", with: "\(dir.path)/run.log")
            .replacingOccurrences(of: " mailgauge run ", with: " \(Paths.mailgauge) run ")
        let run = try await Subprocess.run("/bin/sh", ["-c", command])
        #expect(run.status == 0, "\(command)")
        #expect(try String(contentsOfFile: "\(dir.path)/run.log", encoding: .utf8).contains("run 1: 1 accounts, 0 failed"))
        // While something holds the lock, the cron line skips quietly (flock -n exits 1,
        // which the line treats like mailgauge's "some accounts failed").
        let held = try await Subprocess.run("/usr/bin/flock", ["\(dir.path)/cron.lock", "/bin/sh", "-c", command])
        #expect(held.status == 0)
        #expect(!(try String(contentsOfFile: "\(dir.path)/run.log", encoding: .utf8)).contains("run 2"), "skipped while locked")
    }
}
