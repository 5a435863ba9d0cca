import Foundation
import MailGaugeCore
import Store
import Testing

/// The project's Cyrus IMAP 3.6 (scripts/servers/cyrus), started once per test process.
actor CyrusFixture {
    static let shared = CyrusFixture()
    static let script = Paths.repository.appendingPathComponent("scripts/servers/cyrus").path
    private var started: Task<[String: String], any Error>?

    func env() async throws -> [String: String] {
        if let started { return try await started.value }
        let task = Task { () async throws -> [String: String] in
            let out = try await Subprocess.run(Self.script, ["start"], timeoutSeconds: 600)
            guard out.status == 0 else { throw TestFailure("scripts/servers/cyrus start failed: \(out.stderr)") }
            atexit { Subprocess.runBlocking(CyrusFixture.script, ["stop"]) }
            var env: [String: String] = [:]
            let path = "\(ProcessInfo.processInfo.environment["MAILGAUGE_CYRUS_DIR"] ?? "/tmp/mailgauge-cyrus")/env"
            for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { env[parts[0]] = String(parts[1].dropFirst().dropLast()) }  // 'quoted'
            }
            return env
        }
        started = task
        return try await task.value
    }

    /// Cyrus's own `quota` report: root → resource → (used, limit or nil).
    static func quotaReport() async throws -> [String: [String: (UInt64, UInt64?)]] {
        let out = try await Subprocess.run(script, ["quota"])
        guard out.status == 0 else { throw TestFailure("cyrus quota: \(out.stderr)") }
        var report: [String: [String: (UInt64, UInt64?)]] = [:]
        for line in out.stdout.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ").map(String.init)
            // "5000  47  2393  STORAGE user.alice" (limited) or "40  MESSAGE user.alice".
            if f.count == 5, let limit = UInt64(f[0]), let used = UInt64(f[2]) {
                report[f[4], default: [:]][f[3]] = (used, limit)
            } else if f.count == 3, let used = UInt64(f[0]) {
                report[f[2], default: [:]][f[1]] = (used, nil)
            }
        }
        return report
    }
}

@Suite("a real Cyrus IMAP 3.6", .serialized, .requires(.cyrus, .sqlite3))
struct CyrusTests {
    struct Account: Decodable { var user: String; var password: String }

    @Test("per-user logins over implicit TLS: every quota figure equals Cyrus's own `quota`, folders by LIST-STATUS")
    func figuresEqualCyrusQuota() async throws {
        let env = try await CyrusFixture.shared.env()
        let accounts = try JSONDecoder().decode([Account].self, from: Data(try #require(env["MAILGAUGE_CYRUS_ACCOUNTS"]).utf8))
        let dir = try TestFiles.directory("mg-cyrus")
        var yaml = """
            database: \(dir.path)/mailgauge.sqlite
            servers:
              cyrus: { host: localhost, port: \(try #require(env["MAILGAUGE_CYRUS_IMAPS_PORT"])), tls: implicit, ca_file: \(try #require(env["MAILGAUGE_CYRUS_CA_FILE"])) }
            defaults: { server: cyrus }
            alerts: { stdout: false }
            accounts:

            """
        for a in accounts {
            let secret = try TestFiles.secret(a.password, in: dir, name: "\(a.user).pass")
            yaml += "  - { id: \(a.user), user: \(a.user), password_file: \(secret) }\n"
        }
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")

        let truth = try await CyrusFixture.quotaReport()
        let states = Dictionary(uniqueKeysWithValues: try AppDatabase(path: "\(dir.path)/mailgauge.sqlite").latestStates().map { ($0.id, $0) })
        for a in accounts {
            let state = try #require(states[a.user])
            #expect(state.lastProbeOK, "\(a.user): \(state.failureMessage ?? "")")
            let expected = truth["user.\(a.user)"]
            if expected == nil {
                #expect(state.quotaStatus == .unlimited, "\(a.user) has no quota root")
                continue
            }
            // Over IMAP, Cyrus reports the resources that have a limit (here STORAGE); its
            // `quota` tool also shows usage without one (MESSAGE), checked below by folders.
            for (resource, cyrus) in expected ?? [:] where resource == "STORAGE" || resource == "MESSAGE" {
                let stored = state.quota.first { $0.resource == resource }
                if let limit = cyrus.1 {
                    #expect(stored?.usage == cyrus.0, "\(a.user) \(resource): \(stored?.usage ?? 0) vs \(cyrus.0)")
                    #expect(stored?.limit == limit, "\(a.user) \(resource) limit")
                } else {
                    #expect(stored == nil, "\(a.user) \(resource) has no limit: not reported over IMAP")
                }
            }
            #expect(state.quota.contains { $0.resource == "STORAGE" }, "\(a.user)")
            // Four folders (INBOX, Sent, Trash, Archive) whose messages add up to MESSAGE.
            #expect(state.folders.count == 4, "\(a.user): \(state.folders.map(\.name))")
            #expect(state.folders.reduce(0) { $0 + $1.messages } == expected?["MESSAGE"]?.0)
        }
    }

    @Test("cyrus_admin: one admin login reads every quota each pass; folders only for the accounts due")
    func adminBulkQuota() async throws {
        let env = try await CyrusFixture.shared.env()
        let accounts = try JSONDecoder().decode([Account].self, from: Data(try #require(env["MAILGAUGE_CYRUS_ACCOUNTS"]).utf8))
        let dir = try TestFiles.directory("mg-cyrus-admin")
        try accounts.map(\.user).joined(separator: "\n").write(to: dir.appendingPathComponent("users.txt"), atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try """
            database: \(dir.path)/mailgauge.sqlite
            # A short pass, so "every pass" comes round within the test.
            schedule: { interval: 4s }
            servers:
              cyrus: { host: localhost, port: \(try #require(env["MAILGAUGE_CYRUS_IMAPS_PORT"])), tls: implicit, ca_file: \(try #require(env["MAILGAUGE_CYRUS_CA_FILE"])) }
            master: { user: \(try #require(env["MAILGAUGE_CYRUS_ADMIN"])), password_file: \(try #require(env["MAILGAUGE_CYRUS_ADMIN_PASSWORD_FILE"])), mode: cyrus_admin, users_file: users.txt, server: cyrus }
            alerts: { stdout: false }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        // First pass: every account is new, so every one gets a folder probe (as the admin,
        // with the user as authorization identity), beside the bulk reading.
        let first = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        #expect(first.stdout.contains("run 1: 5 accounts; quota of 5 read over 1 admin login"), "\(first.stdout)")
        // Its probes set bob's and carol's next folder probe two passes (8 s) on, due within
        // half a pass of it: 6 s after the pass at the latest.
        try await Task.sleep(for: .seconds(6.5))
        // Two passes later: only bob (83 %) and carol (94 %), over the warning threshold, are
        // due for folders (read in bulk each pass, an account at risk gets its folder probe
        // every second pass); alice, dave and erin get a quota-only reading from the bulk read.
        let second = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        #expect(second.stdout.contains("run 2: 2 accounts (3 not due); quota of 5 read over 1 admin login"), "\(second.stdout)")

        let truth = try await CyrusFixture.quotaReport()
        let db = try AppDatabase(path: "\(dir.path)/mailgauge.sqlite")
        let states = Dictionary(uniqueKeysWithValues: try db.latestStates().map { ($0.id, $0) })
        for a in accounts {
            let state = try #require(states[a.user])
            #expect(state.lastProbeOK, "\(a.user)")
            if let cyrus = truth["user.\(a.user)"]?["STORAGE"] {
                let stored = state.quota.first { $0.resource == "STORAGE" }
                #expect(stored?.usage == cyrus.0 && stored?.limit == cyrus.1, "\(a.user): \(String(describing: stored)) vs \(cyrus)")
            } else {
                #expect(state.quota.isEmpty, "\(a.user) has no quota root")
            }
            // The folders shown are the last folder probe's, whether or not this pass probed them.
            #expect(state.folders.count == 4, "\(a.user): \(state.folders.count) folders")
        }
        let samples = try await Subprocess.run("/usr/bin/sqlite3", ["\(dir.path)/mailgauge.sqlite",
            "SELECT account_id, COUNT(DISTINCT at) FROM quota_sample WHERE resource = 'STORAGE' GROUP BY 1 ORDER BY 1;"
            + "SELECT account_id, COUNT(DISTINCT at) FROM folder_sample GROUP BY 1 ORDER BY 1;"]).stdout
        // Two quota readings for every limited account; two folder readings only for the two due.
        #expect(samples == "alice|2\nbob|2\ncarol|2\nerin|2\nalice|1\nbob|2\ncarol|2\ndave|1\nerin|1\n", "\(samples)")
    }
}
