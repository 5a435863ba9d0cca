import Foundation

/// The project's Dovecot (scripts/servers/dovecot), started once per test process and stopped when
/// the process exits. Tests read its ports, CA files and accounts from the env file.
struct TestDovecot: Sendable {
    struct Account: Decodable, Sendable {
        var user: String
        var password_file: String
        var limit_kib: Int?
        var limit_messages: Int?
        var password: String { (try? String(contentsOfFile: password_file, encoding: .utf8))?.trimmingCharacters(in: .newlines) ?? "" }
    }

    let env: [String: String]
    let accounts: [Account]

    var host: String { "localhost" }
    var imapPort: Int { Int(env["MAILGAUGE_DOVECOT_IMAP_PORT"]!)! }
    var imapsPort: Int { Int(env["MAILGAUGE_DOVECOT_IMAPS_PORT"]!)! }
    var caFile: String { env["MAILGAUGE_DOVECOT_CA_FILE"]! }
    var otherCAFile: String { env["MAILGAUGE_DOVECOT_OTHER_CA_FILE"]! }
    var configFile: String { env["MAILGAUGE_DOVECOT_CONF"]! }
    var logFile: String { env["MAILGAUGE_DOVECOT_LOG"]! }
    var masterUser: String { env["MAILGAUGE_DOVECOT_MASTER_USER"]! }
    var masterPasswordFile: String { env["MAILGAUGE_DOVECOT_MASTER_PASSWORD_FILE"]! }

    func account(_ user: String) -> Account { accounts.first { $0.user == user }! }

    static let script = Paths.repository.appendingPathComponent("scripts/servers/dovecot").path

    /// The server, started on first use by the process-wide fixture.
    static func shared() async throws -> TestDovecot { try await DovecotFixture.shared.dovecot() }

    /// 200 extra users (scale0000…scale0199) for run tests, added once per process.
    func scaleUsers() async throws -> [String] { try await DovecotFixture.shared.scaleUsers() }

    func secretFile(_ user: String) -> String { "\(env["MAILGAUGE_DOVECOT_DIR"]!)/secrets/\(user).pass" }

    /// `doveadm -f tab quota get -A`: user → resource → (value, limit or nil).
    func doveadmQuotaAll() async throws -> [String: [String: (UInt64, UInt64?)]] {
        let out = try await Subprocess.run("/usr/bin/doveadm", ["-c", configFile, "-f", "tab", "quota", "get", "-A"])
        guard out.status == 0 else { throw TestFailure("doveadm quota get -A: \(out.stderr)") }
        var all: [String: [String: (UInt64, UInt64?)]] = [:]
        for line in out.stdout.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 5 else { continue }
            all[f[0], default: [:]][f[2]] = (UInt64(f[3]) ?? 0, UInt64(f[4]))
        }
        return all
    }

    func addMail(_ user: String, folder: String, count: Int, size: Int) async throws {
        let out = try await Subprocess.run(Self.script, ["add-mail", user, folder, "\(count)", "\(size)"])
        guard out.status == 0 else { throw TestFailure("add-mail failed: \(out.stderr)") }
    }

    /// Changes a user's storage limit in the passwd-file (Dovecot re-reads it per login).
    func setQuotaLimit(_ user: String, kib: Int) async throws {
        try await DovecotFixture.shared.setQuotaLimit(user, kib: kib, in: self)
    }

    // MARK: - Ground truth from doveadm

    struct DoveadmQuota: Equatable {
        var resource: String
        var value: UInt64
        var limit: UInt64?  // nil: "-" (no limit)
    }

    /// `doveadm quota get -u USER`.
    func doveadmQuota(_ user: String) async throws -> [DoveadmQuota] {
        let out = try await Subprocess.run("/usr/bin/doveadm", ["-c", configFile, "quota", "get", "-u", user])
        guard out.status == 0 else { throw TestFailure("doveadm quota get: \(out.stderr)") }
        // "User quota STORAGE  2512  5000   50": the root name has spaces; read from the end.
        return out.stdout.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 4 else { return nil }
            let n = fields.count
            return DoveadmQuota(resource: String(fields[n - 4]), value: UInt64(fields[n - 3])!,
                                limit: UInt64(fields[n - 2]))
        }
    }

    /// `doveadm mailbox status -u USER "messages vsize" "*"`: name → (messages, vsize).
    func doveadmFolders(_ user: String) async throws -> [String: (UInt64, UInt64)] {
        let out = try await Subprocess.run("/usr/bin/doveadm", ["-c", configFile, "mailbox", "status", "-u", user, "messages vsize", "*"])
        guard out.status == 0 else { throw TestFailure("doveadm mailbox status: \(out.stderr)") }
        var folders: [String: (UInt64, UInt64)] = [:]
        for line in out.stdout.split(separator: "\n") {
            // "<name> messages=N vsize=M"; the name may contain spaces.
            guard let m = line.range(of: " messages="), let v = line.range(of: " vsize=") else { continue }
            let name = String(line[..<m.lowerBound])
            folders[name] = (UInt64(line[m.upperBound..<v.lowerBound])!, UInt64(line[v.upperBound...])!)
        }
        return folders
    }

    func logContains(_ needle: String) -> Bool {
        ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains(needle)
    }
}

/// The one Dovecot of the test process. An actor, so suites running in parallel start it
/// once, add the scale users once, and never write its users file at the same time.
actor DovecotFixture {
    static let shared = DovecotFixture()

    private var started: Task<TestDovecot, any Error>?
    private var scale: Task<[String], any Error>?
    /// The last queued writer of the users file; each writer waits for the one before.
    private var usersFileTail: Task<Void, Never>?

    /// Runs `body` after every earlier writer of the users file has finished.
    private func exclusive<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = usersFileTail
        let task = Task { () async throws -> T in
            await previous?.value
            return try await body()
        }
        usersFileTail = Task { _ = try? await task.value }
        return try await task.value
    }

    func dovecot() async throws -> TestDovecot {
        if let started { return try await started.value }
        let task = Task { try await Self.start() }
        started = task
        return try await task.value
    }

    private static func start() async throws -> TestDovecot {
        let out = try await Subprocess.run(TestDovecot.script, ["start"], timeoutSeconds: 600)
        guard out.status == 0 else { throw TestFailure("scripts/servers/dovecot start failed: \(out.stderr)") }
        atexit { Subprocess.runBlocking(TestDovecot.script, ["stop"]) }
        let envPath = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var env: [String: String] = [:]
        for line in try String(contentsOfFile: envPath, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { env[parts[0]] = parts[1] }
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: env["MAILGAUGE_DOVECOT_ACCOUNTS"]!))
        return TestDovecot(env: env, accounts: try JSONDecoder().decode([TestDovecot.Account].self, from: data))
    }

    func scaleUsers() async throws -> [String] {
        if let scale { return try await scale.value }
        let task = Task { () async throws -> [String] in try await exclusive { try await Self.addScaleUsers() } }
        scale = task
        return try await task.value
    }

    private static func addScaleUsers() async throws -> [String] {
        let out = try await Subprocess.run(TestDovecot.script, ["add-users", "200", "scale"], timeoutSeconds: 600)
        guard out.status == 0 else { throw TestFailure("add-users failed: \(out.stderr)") }
        return try String(contentsOfFile: out.stdout.trimmingCharacters(in: .whitespacesAndNewlines), encoding: .utf8)
                .split(separator: "\n").map(String.init)
    }

    /// Rewrites one user's limit in the passwd-file; the actor keeps writers apart.
    func setQuotaLimit(_ user: String, kib: Int, in dovecot: TestDovecot) async throws {
        try await exclusive { try await Self.rewriteLimit(user, kib: kib, in: dovecot) }
    }

    private static func rewriteLimit(_ user: String, kib: Int, in dovecot: TestDovecot) async throws {
        let path = "\(dovecot.env["MAILGAUGE_DOVECOT_DIR"]!)/users"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard line.hasPrefix("\(user):") else { return String(line) }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            return (fields.prefix(7) + ["userdb_quota_rule=*:storage=\(kib)K"]).joined(separator: ":")
        }
        let before = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date()
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        // Dovecot re-reads a passwd-file when its mtime (whole seconds) or size changes: a
        // rewrite within the same second to a same-length limit would go unnoticed.
        let after = max(Date(), before.addingTimeInterval(1)).addingTimeInterval(1)
        try FileManager.default.setAttributes([.modificationDate: after], ofItemAtPath: path)
        // The auth process checks the file at most once a second: wait until it answers
        // with the new limit, so the next login sees it.
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if try await dovecot.doveadmQuota(user).first(where: { $0.resource == "STORAGE" })?.limit == UInt64(kib) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("Dovecot did not pick up \(user)'s new limit \(kib)K")
    }

}
