import ClientNetworking
import Foundation
import IMAPClient
import Logging
import SMTPClient
import ScriptedServer
import Testing

/// A meddler between mailgauge and its IMAP or SMTP server, one case per class of the
/// STARTTLS study (Poddebniak et al., USENIX Security 2021, the EAST test suite): each
/// asserts the connection fails and that no byte of the credential, plain or base64 at
/// any alignment, reached the peer. The scripted server plays the meddler (it never
/// stands in for a real server).
@Suite("STARTTLS meddler (IMAP and SMTP)", .requires(.dovecot))
struct MeddlerTests {
    /// Long enough that its base64 forms at every alignment are long, telltale strings.
    static let password = "Meddle-Proof-Secret-\(UUID().uuidString.prefix(12))"

    // MARK: - IMAP

    static let greeting = "* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN AUTH=LOGIN] ready\r\n"

    /// A well-behaved plaintext script: answers CAPABILITY, STARTTLS and the logins.
    static func imapScript(_ overrides: [String: String] = [:]) -> ScriptedIMAPServer.Responder {
        { _, verb, _ in
            if let o = overrides[verb] { return o }
            switch verb {
            case "CAPABILITY": return "* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN\r\n$TAG OK done\r\n"
            case "STARTTLS": return "$TAG OK Begin TLS negotiation now\r\n"
            case "LOGIN", "AUTHENTICATE": return "$TAG OK [CAPABILITY IMAP4rev1 QUOTA] logged in\r\n"
            case "LOGOUT": return "* BYE\r\n$TAG OK bye\r\n"
            case "": return nil
            // Anything else is a TLS ClientHello read as text: answer in plaintext.
            default: return "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] still plaintext\r\n"
            }
        }
    }

    /// Connects over `imap://` (STARTTLS required) and tries to log in; returns the error.
    func imapLogin(_ server: ScriptedIMAPServer, mechanism: Credentials.Mechanism = .plain) async -> (any Error)? {
        let configuration = ConnectionConfiguration(host: "127.0.0.1", port: server.port, security: .startTLS, timeoutSeconds: 3)
        do {
            try await IMAPConnection.withConnection(configuration) { imap in
                try await imap.authenticate(Credentials(user: "alice", secret: Self.password, mechanism: mechanism))
            }
            return nil
        } catch {
            return error
        }
    }

    func expectIMAPFailure(greeting: String?, overrides: [String: String] = [:], mechanism: Credentials.Mechanism = .plain,
                           _ check: (String) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let server = try await ScriptedIMAPServer(greeting: greeting, respond: Self.imapScript(overrides))
        defer { Task { await server.close() } }
        let error = await imapLogin(server, mechanism: mechanism)
        #expect(error != nil, "the login must fail", sourceLocation: sourceLocation)
        let text = error.map { "\($0)" } ?? ""
        #expect(check(text), "\(text)", sourceLocation: sourceLocation)
        #expect(!CredentialLeak.found(Self.password, in: await server.receivedBytes), "credential reached the meddler",
                sourceLocation: sourceLocation)
        let lines = await server.receivedLines
        #expect(!lines.contains { $0.contains("LOGIN") || $0.contains("AUTHENTICATE") }, "\(lines)", sourceLocation: sourceLocation)
    }

    @Test("IMAP: STARTTLS stripped from the capabilities")
    func imapStripped() async throws {
        try await expectIMAPFailure(greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n") { $0.contains("STARTTLS") }
    }

    @Test("IMAP: STARTTLS answered NO or BAD", arguments: ["NO", "BAD"])
    func imapRefused(status: String) async throws {
        try await expectIMAPFailure(greeting: Self.greeting, overrides: ["STARTTLS": "$TAG \(status) not now\r\n"]) {
            $0.contains("STARTTLS")
        }
    }

    @Test("IMAP: PREAUTH greeting on imap://")
    func imapPreauth() async throws {
        try await expectIMAPFailure(greeting: "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n") { $0.contains("PREAUTH") }
    }

    @Test("IMAP: the STARTTLS answer pre-sent with the greeting (tag guessed as the old m1)")
    func imapPresentTagged() async throws {
        let injected = "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\nm1 OK Begin TLS\r\n"
        try await expectIMAPFailure(greeting: injected, overrides: ["STARTTLS": ""]) {
            $0.hasPrefix("protocol:") && $0.contains("never sent") && $0.contains("injection")
        }
    }

    @Test("IMAP: untagged capabilities pre-sent before STARTTLS")
    func imapPresentUntagged() async throws {
        let injected = Self.greeting + "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
        try await expectIMAPFailure(greeting: injected) { $0.hasPrefix("protocol:") && $0.contains("before STARTTLS") && $0.contains("injection") }
    }

    @Test("IMAP: plaintext pipelined after the STARTTLS answer")
    func imapPipelinedAfterAnswer() async throws {
        try await expectIMAPFailure(greeting: Self.greeting, overrides: [
            "STARTTLS": "$TAG OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
        ]) { $0.hasPrefix("protocol:") && $0.contains("after STARTTLS") }
    }

    @Test("IMAP: cleartext instead of a ServerHello", arguments: [Credentials.Mechanism.plain, .login])
    func imapCleartextServerHello(mechanism: Credentials.Mechanism) async throws {
        try await expectIMAPFailure(greeting: Self.greeting, mechanism: mechanism) { $0.hasPrefix("TLS:") }
    }

    @Test("IMAP: with the plaintext opt-in the guard lets credentials through; tags are random per connection")
    func imapPlaintextOptIn() async throws {
        let server = try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n",
                                                  respond: Self.imapScript())
        defer { Task { await server.close() } }
        let configuration = ConnectionConfiguration(host: "127.0.0.1", port: server.port, security: .insecurePlaintext, timeoutSeconds: 3)
        try await IMAPConnection.withConnection(configuration) { imap in
            try await imap.authenticate(Credentials(user: "alice", secret: "pw", mechanism: .plain))
        }
        // Tags are random per connection, never the predictable m1, m2, …
        let tags = await server.receivedLines.map { String($0.prefix { $0 != " " }) }
        #expect(tags.count >= 2 && tags.allSatisfy { !$0.hasPrefix("m") || $0.count > 3 }, "\(tags)")
        #expect(Set(tags.map { $0.prefix(4) }).count == 1)
    }

    @Test("IMAP: after a real STARTTLS handshake credentials flow; alerts and capabilities from before TLS are forgotten")
    func imapRealHandshake() async throws {
        let dovecot = try await TestDovecot.shared()
        let tlsDir = (dovecot.caFile as NSString).deletingLastPathComponent
        let server = try await ScriptedIMAPServer(
            greeting: "* OK [ALERT] Pre-TLS alert a meddler could write\r\n",
            tls: ("\(tlsDir)/server.pem", "\(tlsDir)/server.key")
        ) { _, verb, _ in
            switch verb {
            case "CAPABILITY": "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n$TAG OK\r\n"
            case "STARTTLS": "$TAG OK Begin TLS\r\n"
            case "AUTHENTICATE": "* OK [ALERT] Your mailbox moves on Friday\r\n$TAG OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] in\r\n"
            default: "* BYE\r\n$TAG OK\r\n"
            }
        }
        defer { Task { await server.close() } }
        let configuration = ConnectionConfiguration(host: "localhost", port: server.port, security: .startTLS,
                                                    caFile: dovecot.caFile, timeoutSeconds: 5)
        let alerts = try await IMAPConnection.withConnection(configuration) { imap in
            try await imap.authenticate(Credentials(user: "alice", secret: Self.password, mechanism: .plain))
            return imap.alerts
        }
        #expect(alerts == ["Your mailbox moves on Friday"])
        // The credential went over TLS: the plaintext part of the stream never holds it.
        #expect(!CredentialLeak.found(Self.password, in: await server.receivedBytes))
        #expect(await server.receivedLines.contains { $0.hasSuffix("AUTHENTICATE PLAIN") || $0.contains("AUTHENTICATE PLAIN ") })
    }

    // MARK: - SMTP

    static func smtpScript(_ overrides: [String: String] = [:]) -> ScriptedIMAPServer.Responder {
        { _, _, line in
            let verb = String(line.prefix { $0 != " " && $0 != ":" }).uppercased()
            if let o = overrides[verb] { return o }
            switch verb {
            case "EHLO": return "250-meddler\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
            case "STARTTLS": return "220 2.0.0 Ready to start TLS\r\n"
            case "AUTH": return "235 2.7.0 ok\r\n"
            case "QUIT": return "221 bye\r\n"
            case "": return nil
            default: return "250 still plaintext\r\n"
            }
        }
    }

    func expectSMTPFailure(greeting: String, overrides: [String: String] = [:],
                           _ check: (String) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let server = try await ScriptedIMAPServer(greeting: greeting, respond: Self.smtpScript(overrides))
        defer { Task { await server.close() } }
        let configuration = SMTPConfiguration(host: "127.0.0.1", port: server.port, security: .startTLS, timeoutSeconds: 3,
                                              heloName: "client.test", user: "alerts", password: Self.password)
        var failure: (any Error)?
        do {
            try await SMTPSession.withSession(configuration) { _ in }
        } catch {
            failure = error
        }
        #expect(failure != nil, "the session must fail", sourceLocation: sourceLocation)
        let text = failure.map { "\($0)" } ?? ""
        #expect(check(text), "\(text)", sourceLocation: sourceLocation)
        #expect(!CredentialLeak.found(Self.password, in: await server.receivedBytes), "credential reached the meddler",
                sourceLocation: sourceLocation)
        let lines = await server.receivedLines
        #expect(!lines.contains { $0.hasPrefix("AUTH") }, "\(lines)", sourceLocation: sourceLocation)
    }

    @Test("SMTP: STARTTLS stripped from EHLO")
    func smtpStripped() async throws {
        try await expectSMTPFailure(greeting: "220 hi\r\n", overrides: ["EHLO": "250-meddler\r\n250 AUTH PLAIN\r\n"]) {
            $0.contains("STARTTLS")
        }
    }

    @Test("SMTP: STARTTLS answered 4xx or 5xx", arguments: ["454 4.7.0 TLS not available", "554 5.7.0 no"])
    func smtpRefused(reply: String) async throws {
        try await expectSMTPFailure(greeting: "220 hi\r\n", overrides: ["STARTTLS": reply + "\r\n"]) { $0.contains("refused STARTTLS") }
    }

    @Test("SMTP: EHLO and STARTTLS answers pre-sent with the greeting")
    func smtpPresentWithGreeting() async throws {
        try await expectSMTPFailure(greeting: "220 hi\r\n250-meddler\r\n250 STARTTLS\r\n220 Ready\r\n", overrides: ["EHLO": "", "STARTTLS": ""]) {
            $0.hasPrefix("protocol:") && $0.contains("no command outstanding") && $0.contains("injection")
        }
    }

    @Test("SMTP: the STARTTLS answer pre-sent with the EHLO reply")
    func smtpPresentWithEHLO() async throws {
        try await expectSMTPFailure(greeting: "220 hi\r\n", overrides: [
            "EHLO": "250-meddler\r\n250 STARTTLS\r\n220 2.0.0 Ready\r\n", "STARTTLS": "",
        ]) { $0.contains("no command outstanding") }
    }

    @Test("SMTP: plaintext pipelined after the STARTTLS answer")
    func smtpPipelinedAfterAnswer() async throws {
        try await expectSMTPFailure(greeting: "220 hi\r\n", overrides: [
            "STARTTLS": "220 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n",
        ]) { $0.contains("after STARTTLS") }
    }

    @Test("SMTP: cleartext instead of a ServerHello")
    func smtpCleartextServerHello() async throws {
        try await expectSMTPFailure(greeting: "220 hi\r\n") { $0.hasPrefix("TLS:") }
    }
}

/// Whether a secret, or its base64 form at any of the three byte alignments, occurs in
/// bytes a peer received (SASL PLAIN and AUTH LOGIN send it base64-encoded behind a
/// prefix of any length).
enum CredentialLeak {
    static func found(_ secret: String, in received: [UInt8]) -> Bool {
        let haystack = String(decoding: received, as: UTF8.self)
        if haystack.contains(secret) { return true }
        let bytes = Array(secret.utf8)
        for shift in 0..<3 {
            let encoded = Array(Data(Array(repeating: 0, count: shift) + bytes).base64EncodedString())
            // The characters that depend on the secret alone: whole 3-byte groups of it.
            let first = (shift + 2) / 3 * 4
            let last = (shift + bytes.count) / 3 * 4
            guard last - first >= 8 else { continue }
            if haystack.contains(String(encoded[first..<last])) { return true }
        }
        return false
    }
}

@Suite("credential leak detector")
struct CredentialLeakTests {
    @Test("finds the secret plain and base64-encoded behind prefixes of every length")
    func detects() {
        let secret = "Meddle-Proof-Secret-0123456789"
        for prefix in ["", "\0", "\0a", "\0al", "\0alice\0"] {
            let b64 = Data(Array((prefix + secret).utf8)).base64EncodedString()
            #expect(CredentialLeak.found(secret, in: Array("AUTH PLAIN \(b64)\r\n".utf8)), "\(prefix.count)")
        }
        #expect(CredentialLeak.found(secret, in: Array("x LOGIN alice \(secret)\r\n".utf8)))
        #expect(!CredentialLeak.found(secret, in: Array("x CAPABILITY\r\nx STARTTLS\r\n".utf8)))
    }
}
