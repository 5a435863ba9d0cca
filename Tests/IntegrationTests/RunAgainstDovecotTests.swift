import Foundation
import MailGaugeCore
import Store
import ScriptedServer
import Testing

/// `mailgauge run` over 200 accounts of the project's Dovecot, with failures planted.
/// Serialized: these tests share the Dovecot's scale users and measure run time.
@Suite("mailgauge run against Dovecot", .serialized, .requires(.dovecot, .sqlite3))
struct RunAgainstDovecotTests {
    /// A config in a fresh directory; returns its path and the database path.
    static func writeConfig(_ dovecot: TestDovecot, masterUsers: [String], perUser: [String], wrongPassword: String?,
                            silentPort: Int?, concurrency: Int = 16, lockWait: String = "0s") throws -> (config: String, database: String, dir: URL) {
        let dir = try TestFiles.directory("mg-run")
        try masterUsers.joined(separator: "\n").write(to: dir.appendingPathComponent("users.txt"), atomically: true, encoding: .utf8)
        var yaml = """
            database: \(dir.path)/mailgauge.sqlite
            concurrency: \(concurrency)
            lock_wait: \(lockWait)
            account_timeout: 20s
            # A short pass, so an account due "every pass" is due again within the test.
            schedule: { interval: 4s }
            servers:
              \(TestConfig.server(dovecot, options: "timeout: 10s, max_connections: 12"))
              silent: { host: 127.0.0.1, port: \(silentPort ?? 9), tls: none, timeout: 1s }
            defaults: { server: dovecot }
            master: { user: \(dovecot.masterUser), password_file: \(dovecot.masterPasswordFile), mode: dovecot_master, users_file: users.txt }
            accounts:

            """
        for user in perUser { yaml += "  - { id: \(user), user: \(user), password_file: \(dovecot.secretFile(user)) }\n" }
        if let wrongPassword {
            let file = try TestFiles.secret("definitely-wrong-password", in: dir)
            yaml += "  - { id: wrong-password, user: \(wrongPassword), password_file: \(file) }\n"
        }
        if silentPort != nil {
            yaml += "  - { id: never-answers, user: nobody, password_file: \(dovecot.secretFile("alice")), server: silent }\n"
        }
        if perUser.isEmpty && wrongPassword == nil && silentPort == nil { yaml = yaml.replacingAll("accounts:\n", with: "") }
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        return (config, "\(dir.path)/mailgauge.sqlite", dir)
    }

    static func run(_ config: String, extra: [String] = []) async throws -> Subprocess.Output {
        try await Subprocess.run(Paths.mailgauge, ["run", "-c", config, "--retry-backoff", "0.2"] + extra, timeoutSeconds: 300)
    }

    @Test("201 accounts: figures equal doveadm's, planted failures classified, second run appends")
    func manyAccounts() async throws {
        let dovecot = try await TestDovecot.shared()
        let users = try await dovecot.scaleUsers()
        let silent = try await ScriptedIMAPServer(greeting: nil) { _, _, _ in nil }
        defer { Task { await silent.close() } }
        let setup = try Self.writeConfig(dovecot, masterUsers: Array(users[0..<195]), perUser: ["alice"] + Array(users[195..<198]),
                                         wrongPassword: users[198], silentPort: silent.port)
        let clock = ContinuousClock()
        let start = clock.now
        let out = try await Self.run(setup.config)
        let elapsed = start.duration(to: clock.now)
        #expect(out.status == 1, "some failed: \(out.stdout) \(out.stderr)")
        #expect(out.stdout.contains("201 accounts, 2 failed (auth 1, timeout 1)"), "\(out.stdout)")
        #expect(elapsed < .seconds(60), "bounded: \(elapsed)")

        let db = try AppDatabase(path: setup.database)
        let states = Dictionary(uniqueKeysWithValues: try db.latestStates().map { ($0.id, $0) })
        #expect(states.count == 201)
        #expect(states["wrong-password"]?.failureReason == .auth)
        #expect(states["never-answers"]?.failureReason == .timeout)
        let truth = try await dovecot.doveadmQuotaAll()
        var compared = 0
        for (id, state) in states where state.lastProbeOK {
            let user = state.user
            let storage = try #require(state.quota.first { $0.resource == "STORAGE" }, "\(id)")
            let expected = try #require(truth[user]?["STORAGE"], "\(user)")
            #expect(storage.usage == expected.0 && storage.limit == expected.1, "\(id): \(storage.usage)/\(storage.limit) vs \(expected)")
            compared += 1
        }
        #expect(compared == 199)

        // More mail for a few accounts; the second run appends a second sample.
        for user in [users[1], users[2], users[196]] { try await dovecot.addMail(user, folder: "INBOX", count: 4, size: 30000) }
        let second = try await Self.run(setup.config, extra: ["--all"])
        #expect(second.status == 1)
        let history = try await Subprocess.run(Paths.mailgauge, ["history", "-c", setup.config, users[1], "--format", "json"])
        #expect(history.status == 0, "\(history.stderr)")
        struct Point: Decodable { var resource: String; var usage: UInt64; var limit: UInt64; var resolution: String }
        let points = try JSONDecoder().decode([Point].self, from: Data(history.stdout.utf8)).filter { $0.resource == "STORAGE" }
        #expect(points.count == 2)
        #expect(points.count == 2 && points[1].usage > points[0].usage)
        #expect(points.last?.usage == (try await dovecot.doveadmQuotaAll())[users[1]]?["STORAGE"]?.0)

        let report = try await Subprocess.run(Paths.mailgauge, ["report", "-c", setup.config, "--format", "json"])
        #expect(report.status == 0)
        #expect(report.stdout.contains("\"failure_reason\":\"timeout\""))
        let table = try await Subprocess.run(Paths.mailgauge, ["report", "-c", setup.config])
        #expect(table.stdout.contains("FAILED auth (2x)"), "\(table.stdout.prefix(400))")

        // Adaptive polling (the default): the next pass probes only the accounts due — the
        // two failing ones and any at or near a threshold — not the quiet ones.
        struct Row: Decodable {
            var account: String, percent: Double?, ok: Bool
            var nextProbeAt: String?, nextProbeReason: String?
            enum CodingKeys: String, CodingKey {
                case account, percent, ok, nextProbeAt = "next_probe_at", nextProbeReason = "next_probe_reason"
            }
        }
        let rows = try JSONDecoder().decode([Row].self, from: Data(report.stdout.utf8))
        #expect(rows.count == 201 && rows.allSatisfy { $0.nextProbeAt != nil })
        #expect(rows.filter { !$0.ok }.allSatisfy { $0.nextProbeReason == "failing" })
        let quiet = rows.filter { $0.nextProbeReason == "headroom" || $0.nextProbeReason == "unlimited" }
        #expect(quiet.count > 150, "most of the scale users are far from their limits")
        try await Task.sleep(for: .seconds(3))
        let third = try await Self.run(setup.config)
        #expect(third.stdout.contains("run 3: \(201 - quiet.count) accounts (\(quiet.count) not due), 2 failed"), "\(third.stdout)")
        let scheduled = try AppDatabase(path: setup.database).latestStates()
        #expect(scheduled.filter { $0.nextProbeReason == .failing }.count == 2)
    }

    @Test("SIGKILL part-way, repeatedly: integrity ok, no partial run, next run succeeds")
    func killedRuns() async throws {
        let dovecot = try await TestDovecot.shared()
        let users = try await dovecot.scaleUsers()
        let setup = try Self.writeConfig(dovecot, masterUsers: users, perUser: [], wrongPassword: nil, silentPort: nil, concurrency: 4)
        // One whole run first: how long a run takes here and now (a second on an idle
        // machine, several on a loaded one), so the kills below land at points spread over
        // a run rather than at fixed times a fast run has already passed.
        let clock = ContinuousClock()
        let measured = try await clock.measure {
            let whole = try await Self.run(setup.config)
            #expect(whole.status == 0, "\(whole.stdout) \(whole.stderr)")
        }
        var rng = SystemRandomNumberGenerator()
        for fraction in [0.1, 0.25, 0.4, 0.55, 0.7, 0.85] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Paths.mailgauge)
            process.arguments = ["run", "--all", "-c", setup.config]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: measured * (fraction + Double.random(in: -0.05...0.05, using: &rng)))
            kill(process.processIdentifier, SIGKILL)
            await process.exited()
            try await Self.expectConsistent(setup.database)
        }
        // At least one kill must have landed part-way (otherwise this proves nothing): of
        // the runs stored, one is the measured run, so fewer than 7.
        let completed = try await Subprocess.run("/usr/bin/sqlite3", [setup.database, "SELECT COUNT(*) FROM run"]).stdout
        #expect((Int(completed.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) < 7, "every run finished before its kill")
        let after = try await Self.run(setup.config)
        #expect(after.status == 0, "\(after.stdout) \(after.stderr)")
        try await Self.expectConsistent(setup.database)
        let db = try AppDatabase(path: setup.database)
        #expect(try db.latestStates().count == 200)
    }

    /// PRAGMA integrity_check is ok and every stored run is whole: its probes number its
    /// accounts, and every successful probe has its quota samples.
    static func expectConsistent(_ database: String) async throws {
        guard FileManager.default.fileExists(atPath: database) else { return }
        let q = { (sql: String) async throws -> String in
            let out = try await Subprocess.run("/usr/bin/sqlite3", [database, sql])
            return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try await q("PRAGMA integrity_check") == "ok")
        #expect(try await q("SELECT COUNT(*) FROM run r WHERE accounts != (SELECT COUNT(*) FROM probe p WHERE p.run_id = r.id)") == "0")
        #expect(try await q("SELECT COUNT(*) FROM probe p WHERE ok = 1 AND NOT EXISTS (SELECT 1 FROM quota_sample q WHERE q.run_id = p.run_id AND q.account_id = p.account_id)") == "0")
    }

    @Test("two runs at once: one probes, the other exits 0 saying a run is in progress")
    func overlappingRuns() async throws {
        let dovecot = try await TestDovecot.shared()
        let users = try await dovecot.scaleUsers()
        let setup = try Self.writeConfig(dovecot, masterUsers: users, perUser: [], wrongPassword: nil, silentPort: nil, concurrency: 4)
        let outputs = try [0, 1].map { _ -> (Process, URL) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Paths.mailgauge)
            process.arguments = ["run", "--all", "-c", setup.config]
            let out = setup.dir.appendingPathComponent("out-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = FileHandle.nullDevice
            try process.run()
            return (process, out)
        }
        for (p, _) in outputs { await p.exited() }
        #expect(outputs.map { $0.0.terminationStatus } == [0, 0])
        let texts = try outputs.map { try String(contentsOf: $0.1, encoding: .utf8) }
        #expect(texts.filter { $0.contains("previous run still in progress") }.count == 1, "\(texts)")
        #expect(texts.filter { $0.contains("200 accounts, 0 failed") }.count == 1, "\(texts)")
        let runs = try await Subprocess.run("/usr/bin/sqlite3", [setup.database, "SELECT COUNT(*) FROM run"]).stdout
        #expect(runs.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        try await Self.expectConsistent(setup.database)
    }

    @Test("no password in the database, the logs or any output")
    func secretsStaySecret() async throws {
        let dovecot = try await TestDovecot.shared()
        let users = try await dovecot.scaleUsers()
        let setup = try Self.writeConfig(dovecot, masterUsers: Array(users[0..<5]), perUser: ["alice", "carol"],
                                         wrongPassword: users[6], silentPort: nil)
        var outputs: [String] = []
        for _ in 0..<2 {
            let out = try await Self.run(setup.config, extra: ["--log-level", "trace"])
            outputs += [out.stdout, out.stderr]
        }
        for args in [["report", "-c", setup.config, "--format", "json"], ["history", "-c", setup.config, "alice", "--format", "csv"],
                     ["config", "check", setup.config]] {
            let out = try await Subprocess.run(Paths.mailgauge, args)
            outputs += [out.stdout, out.stderr]
        }
        #expect(outputs[1].contains("trace"), "trace logging was on")
        let secrets = ["alice", "carol"].map { dovecot.account($0).password }
            + [try String(contentsOfFile: dovecot.masterPasswordFile, encoding: .utf8).trimmingCharacters(in: .newlines),
               "definitely-wrong-password"]
        var stored = Data()
        for suffix in ["", "-wal", "-shm"] {
            stored += (try? Data(contentsOf: URL(fileURLWithPath: setup.database + suffix))) ?? Data()
        }
        for secret in secrets {
            #expect(!secret.isEmpty)
            #expect(stored.range(of: Data(secret.utf8)) == nil, "a password is in the database")
            #expect(!outputs.contains { $0.contains(secret) }, "a password is in the output")
        }
    }
}
