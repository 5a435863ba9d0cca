import Foundation
import MailGaugeCore
import Store
import Testing

/// The project's Cyrus IMAP 3.6 (scripts/cyrus), started once per test process.
actor CyrusFixture {
    static let shared = CyrusFixture()
    static let script = Paths.repository.appendingPathComponent("scripts/cyrus").path
    private var started: Task<[String: String], any Error>?

    func env() async throws -> [String: String] {
        if let started { return try await started.value }
        let task = Task { () async throws -> [String: String] in
            let out = try await Subprocess.run(Self.script, ["start"], timeoutSeconds: 600)
            guard out.status == 0 else { throw TestFailure("scripts/cyrus start failed: \(out.stderr)") }
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

@Suite("a real Cyrus IMAP 3.6")
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
                #expect(state.quotaStatus == "unlimited", "\(a.user) has no quota root")
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
}
