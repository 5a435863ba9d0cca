import ClientNetworking
import Collector
import IMAPClient
import IMAPCore
import MailGaugeCore
import ScriptedServer
import Synchronization
import Testing

/// Servers that misbehave on purpose: the client must fail closed, name the failure, and
/// never send credentials where they could leak.
@Suite("fault injection with a scripted server")
struct FaultInjectionTests {
    static let password = "fault-injection-secret"

    func probe(_ server: ScriptedIMAPServer, security: ConnectionConfiguration.Security, timeout: Double = 5,
               user: String = "u", method: FolderMethod? = nil) async throws -> MailboxSnapshot {
        try await Prober(
            connection: ConnectionConfiguration(host: "127.0.0.1", port: server.port, security: security, timeoutSeconds: timeout),
            credentials: Credentials(user: user, secret: Self.password),
            forcedMethod: method
        ).probe()
    }

    func sentCredentials(_ server: ScriptedIMAPServer) async -> Bool {
        await server.receivedLines.contains { $0.uppercased().contains("LOGIN") || $0.uppercased().contains("AUTHENTICATE") || $0.contains(Self.password) }
    }

    @Test("imap:// to a server without STARTTLS: refused before any credential")
    func noStartTLS() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK ready\r\n") { _, verb, _ in
            verb == "CAPABILITY" ? "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n$TAG OK done\r\n" : "$TAG OK\r\n"
        }
        defer { Task { await server.close() } }
        await #expect(throws: IMAPClientError.self) { try await probe(server, security: .startTLS) }
        do { _ = try await probe(server, security: .startTLS) } catch let error as IMAPClientError {
            guard case .startTLSUnavailable = error else { Issue.record("\(error)"); return }
            #expect(error.failureClass == .tls)
        }
        #expect(await !sentCredentials(server))
        let lines = await server.receivedLines
        #expect(lines.allSatisfy { $0.hasSuffix("CAPABILITY") || $0.hasSuffix("LOGOUT") })
    }

    @Test("plaintext opt-in still refuses when the server says LOGINDISABLED")
    func loginDisabled() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=PLAIN] hi\r\n") { _, _, _ in "$TAG OK\r\n" }
        defer { Task { await server.close() } }
        do {
            _ = try await probe(server, security: .insecurePlaintext)
            Issue.record("logged in despite LOGINDISABLED")
        } catch let error as IMAPClientError {
            guard case .loginDisabled = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("LOGINDISABLED"))
        }
        #expect(await !sentCredentials(server))
    }

    @Test("bytes injected after the STARTTLS OK abort the connection (no credentials)")
    func startTLSInjection() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hi\r\n") { _, verb, _ in
            verb == "STARTTLS" ? "$TAG OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN QUOTA\r\n" : nil
        }
        defer { Task { await server.close() } }
        do {
            _ = try await probe(server, security: .startTLS)
            Issue.record("accepted injected data")
        } catch let error as IMAPClientError {
            guard case .protocolViolation(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("injection"))
        }
        #expect(await !sentCredentials(server))
    }

    @Test("a server that accepts and never speaks: timeout at the greeting")
    func silentServer() async throws {
        let server = try await ScriptedIMAPServer(greeting: nil) { _, _, _ in nil }
        defer { Task { await server.close() } }
        do {
            _ = try await probe(server, security: .insecurePlaintext, timeout: 1)
            Issue.record("no timeout")
        } catch let error as IMAPClientError {
            guard case .timeout(let stage, _) = error else { Issue.record("\(error)"); return }
            #expect(stage == "greeting")
            #expect(error.failureClass == .timeout)
        }
        // No wall-clock assertion: speed is for benchmarks; a loaded CI machine may be slow.
    }

    @Test("no answer to LOGIN: timeout, and the message never holds the password")
    func loginTimeout() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1] hi\r\n") { _, verb, _ in
            verb == "LOGIN" ? nil : "$TAG OK\r\n"
        }
        defer { Task { await server.close() } }
        do {
            _ = try await probe(server, security: .insecurePlaintext, timeout: 1)
            Issue.record("no timeout")
        } catch let error as IMAPClientError {
            guard case .timeout = error else { Issue.record("\(error)"); return }
            #expect(error.description.contains("LOGIN u <password redacted>"))
            #expect(!error.description.contains(Self.password))
        }
    }

    @Test("malformed QUOTA response: a protocol error naming the place")
    func malformed() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1] hi\r\n") { _, verb, _ in
            switch verb {
            case "LOGIN": "$TAG OK [CAPABILITY IMAP4rev1 QUOTA] in\r\n"
            case "GETQUOTAROOT": "* QUOTAROOT INBOX r\r\n* QUOTA r (STORAGE lots 10)\r\n$TAG OK\r\n"
            default: "$TAG OK\r\n"
            }
        }
        defer { Task { await server.close() } }
        do {
            _ = try await probe(server, security: .insecurePlaintext)
            Issue.record("accepted garbage")
        } catch let error as IMAPClientError {
            guard case .protocolViolation(let why) = error else { Issue.record("\(error)"); return }
            #expect(why.contains("expected a number"))
            #expect(error.failureClass == .protocol)
        }
    }

    @Test("BYE [UNAVAILABLE] mid-session: connection closed, counted transient")
    func byeMidSession() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1] hi\r\n") { _, verb, _ in
            switch verb {
            case "LOGIN": "$TAG OK [CAPABILITY IMAP4rev1 QUOTA] in\r\n"
            case "GETQUOTAROOT": "* BYE [UNAVAILABLE] Server shutting down\r\n"
            default: "$TAG OK\r\n"
            }
        }
        defer { Task { await server.close() } }
        do {
            _ = try await probe(server, security: .insecurePlaintext)
            Issue.record("no error")
        } catch let error as IMAPClientError {
            guard case .connectionClosed(let reason, let code) = error else { Issue.record("\(error)"); return }
            #expect(reason == "Server shutting down" && code == .unavailable)
            #expect(error.isTransient)
            #expect(ProbeFailure.classify(error).isTransient)
        }
    }

    @Test("[LIMIT] and [UNAVAILABLE] on login are auth failures worth a retry; LIMIT also slows down")
    func loginCodes() async throws {
        for (code, limited) in [("UNAVAILABLE", false), ("LIMIT", true)] {
            let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1] hi\r\n") { _, verb, _ in
                verb == "LOGIN" ? "$TAG NO [\(code)] go away\r\n" : "$TAG OK\r\n"
            }
            do {
                _ = try await probe(server, security: .insecurePlaintext)
                Issue.record("no error")
            } catch let error as IMAPClientError {
                #expect(error.failureClass == .auth)
                #expect(error.isTransient)
                #expect(error.isRateLimited == limited)
                let failure = ProbeFailure.classify(error)
                #expect(failure.reason == .auth && failure.isTransient && failure.isRateLimited == limited)
                #expect(error.description.contains("[\(code)]"))
            }
            await server.close()
        }
    }

    @Test("synchronising literal: waits for + before sending the rest")
    func synchronisingLiteral() async throws {
        // No LITERAL+: an 8-bit user name must go as {n} and wait for the server's "+".
        let loginTag = Mutex<String?>(nil)
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1] hi\r\n") { tag, verb, line in
            if verb == "LOGIN" {
                loginTag.withLock { $0 = tag }
                return line.hasSuffix("{5}") ? "+ go ahead\r\n" : "$TAG BAD no literal\r\n"
            }
            // The literal's continuation line ends the LOGIN (refused: the order is the point).
            if line.hasPrefix("jörg ") { return loginTag.withLock { $0 }.map { "\($0) NO [AUTHENTICATIONFAILED] no\r\n" } }
            return "$TAG OK\r\n"
        }
        defer { Task { await server.close() } }
        do {
            // A deadline far from the test's own pace: a loaded CI machine once took more
            // than a second between LOGIN and its "+".
            _ = try await probe(server, security: .insecurePlaintext, timeout: 10, user: "jörg")
        } catch {
            // The script refuses the LOGIN: what matters is the order of what was sent.
        }
        let lines = await server.receivedLines
        let login = try #require(lines.firstIndex { $0.hasSuffix("LOGIN {5}") })
        #expect(lines.count > login + 1 && lines[login + 1] == "jörg \(Self.password)")
    }

    @Test("a server without QUOTA or STATUS=SIZE: folder sums via EXAMINE + FETCH, Noselect skipped")
    func fetchFallback() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1 LITERAL+] Exchange-ish\r\n") { _, verb, line in
            switch verb {
            case "LOGIN": return "$TAG OK [CAPABILITY IMAP4rev1 LITERAL+ CHILDREN] in\r\n"
            case "LIST":
                return "* LIST (\\HasChildren) \"/\" INBOX\r\n* LIST (\\Noselect \\HasChildren) \"/\" Old\r\n"
                    + "* LIST (\\HasNoChildren) \"/\" \"Old/Sent Items\"\r\n* LIST (\\HasNoChildren) \"/\" Empty\r\n$TAG OK LIST done\r\n"
            case "EXAMINE":
                if line.contains("Empty") { return "* 0 EXISTS\r\n$TAG OK [READ-ONLY] done\r\n" }
                return line.contains("INBOX") ? "* 3 EXISTS\r\n* 0 RECENT\r\n$TAG OK [READ-ONLY] done\r\n" : "* 1 EXISTS\r\n$TAG OK [READ-ONLY] done\r\n"
            case "FETCH":
                return "* 1 FETCH (RFC822.SIZE 100)\r\n* 2 FETCH (RFC822.SIZE 250)\r\n* 2 FETCH (FLAGS (\\Seen))\r\n* 3 FETCH (RFC822.SIZE 4096)\r\n$TAG OK\r\n"
            default: return "$TAG OK\r\n"
            }
        }
        defer { Task { await server.close() } }
        let snap = try await probe(server, security: .insecurePlaintext)
        #expect(snap.quotaStatus == .unsupported)
        #expect(snap.method == .fetch)
        let byName = Dictionary(uniqueKeysWithValues: snap.folders.map { ($0.name, ($0.messages, $0.sizeBytes?.value)) })
        #expect(byName.count == 3)
        #expect(byName["INBOX"]! == (3, 4446))
        #expect(byName["Empty"]! == (0, 0))
        #expect(byName["Old"] == nil)
        let lines = await server.receivedLines
        #expect(!lines.contains { $0.contains("FETCH") && $0.contains("Empty") })
    }

    @Test("after login, ID, GETQUOTAROOT and the folder LIST go out in one write: this server answers none until it has all three")
    func pipelinedAfterLogin() async throws {
        let tags = Mutex<[String: String]>([:])
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hi\r\n") { tag, verb, _ in
            switch verb {
            case "AUTHENTICATE":
                return "$TAG OK [CAPABILITY IMAP4rev1 ID QUOTA LIST-EXTENDED LIST-STATUS STATUS=SIZE SPECIAL-USE] in\r\n"
            case "ID", "GETQUOTAROOT":
                // Not answered now: a client waiting for this answer before sending the
                // next command would wait until its deadline.
                tags.withLock { $0[verb] = tag }
                return nil
            case "LIST":
                let seen = tags.withLock { $0 }
                guard let id = seen["ID"], let quota = seen["GETQUOTAROOT"] else { return "$TAG BAD not pipelined\r\n" }
                return "* ID (\"name\" \"scripted\")\r\n\(id) OK\r\n* QUOTAROOT INBOX r\r\n* QUOTA r (STORAGE 10 100)\r\n\(quota) OK\r\n"
                    + "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* STATUS INBOX (MESSAGES 2 SIZE 2048)\r\n"
                    + "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n* STATUS Sent (MESSAGES 1 SIZE 512)\r\n$TAG OK\r\n"
            default:
                return "$TAG OK\r\n"
            }
        }
        defer { Task { await server.close() } }
        let snap = try await probe(server, security: .insecurePlaintext, timeout: 3)
        #expect(snap.quotaStatus == .ok && snap.storage?.usage == 10 && snap.storage?.limit == 100)
        #expect(snap.method == .listStatus)
        #expect(snap.folders.map(\.name) == ["INBOX", "Sent"] && snap.folders.map(\.sizeBytes?.value) == [2048, 512])
        #expect(snap.folders.map(\.specialUse) == [[], ["\\Sent"]])
        let verbs = await server.receivedLines.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" }
        #expect(verbs == ["AUTHENTICATE", "ID", "GETQUOTAROOT", "LIST", "LOGOUT"])
    }
}
