import ClientNetworking
import Collector
import Foundation
import IMAPClient
import IMAPCore
import MailGaugeCore
import ScriptedServer
import Testing

/// Every wait and every count a server controls has a bound: a server that talks without
/// end, asks for SASL rounds without end, or lists without end is cut off with an error
/// that says which bound it hit.
@Suite("bounds against misbehaving servers")
struct BoundsTests {
    static let caps = "IMAP4rev1 SASL-IR AUTH=PLAIN QUOTA STATUS=SIZE LIST-STATUS"

    func probe(_ server: ScriptedIMAPServer, timeout: Double = 5, maxResponses: Int = 2_000_000, maxFolders: Int = 10_000,
               overall: Double? = nil) async -> Result<MailboxSnapshot, any Error> {
        let prober = Prober(
            connection: ConnectionConfiguration(host: "127.0.0.1", port: server.port, security: .insecurePlaintext,
                                                timeoutSeconds: timeout, maxResponsesPerCommand: maxResponses),
            credentials: Credentials(user: "u", secret: "pw", mechanism: .plain), maxFolders: maxFolders)
        do {
            if let overall { return .success(try await prober.probe(overallTimeoutSeconds: overall)) }
            return .success(try await prober.probe())
        } catch {
            return .failure(error)
        }
    }

    /// Logs in, then answers `verb` with `reply`; everything else as a quiet server would.
    func server(_ verb: String, _ reply: String, caps: String = BoundsTests.caps) async throws -> ScriptedIMAPServer {
        try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY \(caps)] hi\r\n") { _, v, _ in
            if v == verb { return reply }
            switch v {
            case "AUTHENTICATE": return "$TAG OK [CAPABILITY \(caps)] in\r\n"
            case "GETQUOTAROOT": return "* QUOTAROOT INBOX \"\"\r\n* QUOTA \"\" (STORAGE 1 10)\r\n$TAG OK\r\n"
            case "LIST": return "* LIST () \"/\" INBOX\r\n* STATUS INBOX (MESSAGES 1 SIZE 1)\r\n$TAG OK\r\n"
            case "LOGOUT": return "* BYE\r\n$TAG OK\r\n"
            default: return "$TAG OK\r\n"
            }
        }
    }

    @Test("a server that keeps talking is bounded by the command's deadline, not reset by each line")
    func talkative() async throws {
        let s = try await server("LIST", "$EVERY 100 * OK [ALERT] still listing\r\n")
        defer { Task { await s.close() } }
        let started = ContinuousClock.now
        // Three seconds: with one, a loaded CI machine once ran out of time at AUTHENTICATE.
        let result = await probe(s, timeout: 3)
        let elapsed = started.duration(to: .now)
        guard case .failure(let error) = result else { Issue.record("probe succeeded"); return }
        #expect("\(error)".hasPrefix("timeout:") && "\(error)".contains("LIST"), "\(error)")
        // An idle timer re-armed every 100 ms would never fire.
        #expect(elapsed < .seconds(10), "\(elapsed)")
    }

    @Test("endless SASL continuations are answered three times, then refused")
    func saslRounds() async throws {
        let s = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n") { _, verb, _ in
            verb == "LOGOUT" ? "* BYE\r\n$TAG OK\r\n" : "+ \r\n"
        }
        defer { Task { await s.close() } }
        guard case .failure(let error) = await probe(s, timeout: 5) else { Issue.record("probe succeeded"); return }
        #expect("\(error)".contains("more than 3 SASL rounds"), "\(error)")
        // The command line, then one line per round answered: the initial response and two more.
        let lines = await s.receivedLines
        let answered = lines.filter { !$0.contains("AUTHENTICATE") && !$0.contains("LOGOUT") }
        #expect(answered.count == 3, "\(lines)")
    }

    @Test("untagged responses per command are capped (max_responses_per_command)")
    func untaggedCap() async throws {
        let flood = String(repeating: "* OK noise\r\n", count: 500) + "$TAG OK\r\n"
        let s = try await server("GETQUOTAROOT", flood)
        defer { Task { await s.close() } }
        guard case .failure(let error) = await probe(s, maxResponses: 100) else { Issue.record("probe succeeded"); return }
        #expect("\(error)".contains("more than 100 untagged responses to GETQUOTAROOT"), "\(error)")
        // Under the cap the same server is fine.
        guard case .success = await probe(s, maxResponses: 1000) else { Issue.record("a normal answer was refused"); return }
    }

    @Test("folders per account are capped (max_folders)")
    func folderCap() async throws {
        let listing = (0..<50).map { "* LIST () \"/\" F\($0)\r\n* STATUS F\($0) (MESSAGES 1 SIZE 1)\r\n" }.joined() + "$TAG OK\r\n"
        let s = try await server("LIST", listing)
        defer { Task { await s.close() } }
        guard case .failure(let error) = await probe(s, maxFolders: 10) else { Issue.record("probe succeeded"); return }
        #expect("\(error)".contains("more than 10 folders"), "\(error)")
        guard case .success(let snapshot) = await probe(s, maxFolders: 50) else { Issue.record("50 folders refused"); return }
        #expect(snapshot.folders.count == 50)
    }

    @Test("the whole probe has a deadline of its own")
    func overallDeadline() async throws {
        // Each command is answered in time, but the listing never ends within the probe's deadline.
        let s = try await server("LIST", "$EVERY 100 * OK still listing\r\n")
        defer { Task { await s.close() } }
        let started = ContinuousClock.now
        guard case .failure(let error) = await probe(s, timeout: 60, overall: 1) else { Issue.record("probe succeeded"); return }
        #expect("\(error)".contains("the whole probe"), "\(error)")
        #expect(started.duration(to: .now) < .seconds(10))
    }

    @Test("[ALERT] texts from the greeting and from a command reach the snapshot")
    func alerts() async throws {
        let s = try await ScriptedIMAPServer(greeting: "* OK [ALERT] Mailbox moves to the new server on Friday\r\n") { _, verb, _ in
            switch verb {
            case "CAPABILITY": "* CAPABILITY \(Self.caps)\r\n$TAG OK\r\n"
            case "AUTHENTICATE": "$TAG OK [CAPABILITY \(Self.caps)] in\r\n"
            case "GETQUOTAROOT": "* OK [ALERT] Quota raised to 10 KiB\r\n* QUOTAROOT INBOX \"\"\r\n* QUOTA \"\" (STORAGE 1 10)\r\n$TAG OK\r\n"
            case "LIST": "* LIST () \"/\" INBOX\r\n* STATUS INBOX (MESSAGES 1 SIZE 1)\r\n$TAG OK\r\n"
            default: "* BYE\r\n$TAG OK\r\n"
            }
        }
        defer { Task { await s.close() } }
        guard case .success(let snapshot) = await probe(s) else { Issue.record("probe failed"); return }
        #expect(snapshot.alerts == ["Mailbox moves to the new server on Friday", "Quota raised to 10 KiB"])
    }
}

@Suite("server text in human output")
struct ServerTextTests {
    @Test("a folder name and an [ALERT] with terminal escapes are shown escaped by probe")
    func escapes() async throws {
        let caps = "IMAP4rev1 SASL-IR AUTH=PLAIN STATUS=SIZE LIST-STATUS"
        let s = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY \(caps)] hi\r\n") { _, verb, _ in
            switch verb {
            case "AUTHENTICATE": "* OK [ALERT] \u{1B}]0;owned\u{07}Read this\r\n$TAG OK [CAPABILITY \(caps)] in\r\n"
            case "LIST": "* LIST () \"/\" \"evil\u{1B}[2Jname\"\r\n* STATUS \"evil\u{1B}[2Jname\" (MESSAGES 1 SIZE 10)\r\n$TAG OK\r\n"
            default: "* BYE\r\n$TAG OK\r\n"
            }
        }
        defer { Task { await s.close() } }
        let dir = try TestFiles.directory("mg-text")
        let out = try await Subprocess.run(Paths.mailgauge, [
            "probe", "imap://u@127.0.0.1:\(s.port)", "--insecure-plaintext", "--password-file", try TestFiles.secret("pw", in: dir),
        ])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(!out.stdout.contains("\u{1B}") && !out.stderr.contains("\u{1B}") && !out.stderr.contains("\u{07}"))
        #expect(out.stdout.contains("evil\\u{1B}[2Jname"), "\(out.stdout)")
        #expect(out.stderr.contains("mailgauge: server alert: \\u{1B}]0;owned\\u{7}Read this"), "\(out.stderr)")
    }
}

@Suite("process hardening")
struct ProcessHardeningTests {
    @Test("mailgauge runs with core dumps off (it holds passwords)")
    func noCoreDumps() async throws {
        let silent = try await ScriptedIMAPServer(greeting: nil) { _, _, _ in nil }
        defer { Task { await silent.close() } }
        let dir = try TestFiles.directory("mg-core")
        // Let the child inherit core dumps *on*, so only mailgauge itself can turn them off.
        var inherited = rlimit()
        getrlimit(Int32(RLIMIT_CORE.rawValue), &inherited)
        var on = rlimit(rlim_cur: inherited.rlim_max, rlim_max: inherited.rlim_max)
        setrlimit(Int32(RLIMIT_CORE.rawValue), &on)
        defer { setrlimit(Int32(RLIMIT_CORE.rawValue), &inherited) }
        #expect(on.rlim_cur > 0, "this machine allows no core dumps at all: the test proves nothing")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.mailgauge)
        process.arguments = ["probe", "imap://u@127.0.0.1:\(silent.port)", "--insecure-plaintext", "--timeout", "10",
                             "--password-file", try TestFiles.secret("pw", in: dir)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate() }
        // The limits are set first thing in main; until the process gets there (exec and
        // start-up take a while on a loaded machine) it shows the test's own. Wait for it,
        // up to ten seconds, rather than guessing how long start-up takes.
        func coreLimit() throws -> Substring {
            let limits = try String(contentsOfFile: "/proc/\(process.processIdentifier)/limits", encoding: .utf8)
            return try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        }
        var line = try coreLimit()
        let waitUntil = Date().addingTimeInterval(10)
        while line.split(separator: " ").dropFirst(4).prefix(2) != ["0", "0"], Date() < waitUntil {
            try await Task.sleep(for: .milliseconds(100))
            line = try coreLimit()
        }
        #expect(line.split(separator: " ").dropFirst(4).prefix(2) == ["0", "0"], "\(line)")
    }

}

@Suite("TLS setup once per pass", .requires(.sqlite3))
struct TLSSetupTests {
    @Test("a CA file that cannot be read is one error for the pass; its server's accounts fail without connecting")
    func unreadableCA() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK hi\r\n") { _, _, _ in "$TAG OK\r\n" }
        defer { Task { await server.close() } }
        let dir = try TestFiles.directory("mg-badca")
        let ca = dir.appendingPathComponent("ca.pem").path
        try "not a certificate\n".write(toFile: ca, atomically: true, encoding: .utf8)
        let secret = try TestFiles.secret("pw", in: dir)
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try """
            database: \(dir.path)/mailgauge.sqlite
            servers:
              broken: { host: 127.0.0.1, port: \(server.port), tls: implicit, ca_file: \(ca), timeout: 5s }
            accounts:
              - { id: a1, user: a1, server: broken, password_file: \(secret) }
              - { id: a2, user: a2, server: broken, password_file: \(secret) }
              - { id: a3, user: a3, server: broken, password_file: \(secret) }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config, "--log-level", "info"], timeoutSeconds: 60)
        // Every account failed: exit 3 (monitoring is blind), the run still stored.
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stdout.contains(": 3 accounts, 3 failed (tls 3)"), "\(run.stdout)")
        let stored = try await Subprocess.run("/usr/bin/sqlite3", ["\(dir.path)/mailgauge.sqlite", "SELECT COUNT(*) FROM probe WHERE ok = 0"])
        #expect(stored.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "3")
        let setupErrors = run.stderr.split(separator: "\n").filter { $0.contains("TLS setup failed") }
        #expect(setupErrors.count == 1, "\(run.stderr)")
        #expect(await server.receivedBytes.isEmpty, "no connection for a server whose TLS could not be set up")
        let report = try await Subprocess.run(Paths.mailgauge, ["report", "-c", config, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 3 && rows.allSatisfy { ($0["failure_message"] as? String)?.hasPrefix("TLS: cannot read CA file") == true },
                "\(report.stdout)")
    }
}
