import Foundation
import Logging
import SMTPClient
import ClientNetworking
import ScriptedServer
import Testing

/// The SMTP client against a scripted server that misbehaves on purpose (the real-server
/// tests use aiosmtpd): silence, STARTTLS injection, no STARTTLS, garbage, refusals.
@Suite("SMTP fault injection with a scripted server")
struct SMTPFaultInjectionTests {
    let message = MailMessage(from: MailAddress("gauge@example.test"), to: [MailAddress("it@example.test")],
                              subject: "s", text: "first line\n.starts with a dot\n.\nend")

    func configuration(_ port: Int, security: SMTPConfiguration.Security = .insecurePlaintext, timeout: Double = 5) -> SMTPConfiguration {
        SMTPConfiguration(host: "127.0.0.1", port: port, security: security, timeoutSeconds: timeout, heloName: "client.test",
                          user: "alerts", password: "pw")
    }

    /// A well-behaved script, overridable per command.
    static func script(_ overrides: [String: String] = [:]) -> ScriptedIMAPServer.Responder {
        { _, _, line in
            let verb = String(line.prefix { $0 != " " && $0 != ":" }).uppercased()
            if let o = overrides[verb] { return o }
            switch verb {
            case "EHLO": return "250-scripted\r\n250 AUTH PLAIN\r\n"
            case "AUTH": return "235 2.7.0 ok\r\n"
            case "MAIL", "RCPT", "RSET": return "250 ok\r\n"
            case "DATA": return "354 go\r\n"
            case ".": return "250 queued\r\n"
            case "QUIT": return "221 bye\r\n"
            default: return nil  // message lines: no answer
            }
        }
    }

    @Test("a silent server: timeout at the greeting")
    func silent() async throws {
        let server = try await ScriptedIMAPServer(greeting: nil, respond: Self.script())
        defer { Task { await server.close() } }
        await #expect(throws: SMTPError.timeout(stage: "greeting", seconds: 1)) {
            try await SMTPSession.withSession(configuration(server.port, timeout: 1)) { _ in }
        }
    }

    @Test("bytes after the STARTTLS 220 (injection) abort before any credential is sent")
    func startTLSInjection() async throws {
        let server = try await ScriptedIMAPServer(greeting: "220 hi\r\n", respond: Self.script([
            "EHLO": "250-scripted\r\n250 STARTTLS\r\n",
            "STARTTLS": "220 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n",
        ]))
        defer { Task { await server.close() } }
        await #expect {
            try await SMTPSession.withSession(configuration(server.port, security: .startTLS)) { _ in }
        } throws: { error in
            "\(error)".contains("possible injection")
        }
        let lines = await server.receivedLines
        #expect(!lines.contains { $0.hasPrefix("AUTH") || $0.hasPrefix("MAIL") })
    }

    @Test("STARTTLS required but not offered: refused after EHLO, nothing else sent")
    func noStartTLS() async throws {
        let server = try await ScriptedIMAPServer(greeting: "220 hi\r\n", respond: Self.script())
        defer { Task { await server.close() } }
        await #expect(throws: SMTPError.startTLSUnavailable) {
            try await SMTPSession.withSession(configuration(server.port, security: .startTLS)) { _ in }
        }
        let lines = await server.receivedLines
        #expect(lines.filter { $0 != "QUIT" } == ["EHLO client.test"])
    }

    @Test("garbage instead of a reply is a protocol error")
    func garbage() async throws {
        let server = try await ScriptedIMAPServer(greeting: "HTTP/1.1 400 Bad Request\r\n", respond: Self.script())
        defer { Task { await server.close() } }
        await #expect {
            try await SMTPSession.withSession(configuration(server.port)) { _ in }
        } throws: { error in
            "\(error)".hasPrefix("protocol: malformed SMTP reply line")
        }
    }

    @Test("wrong credentials: the server's reply, not the password, in the error")
    func authFailed() async throws {
        let server = try await ScriptedIMAPServer(greeting: "220 hi\r\n", respond: Self.script(["AUTH": "535 5.7.8 bad credentials\r\n"]))
        defer { Task { await server.close() } }
        await #expect {
            try await SMTPSession.withSession(configuration(server.port)) { _ in }
        } throws: { error in
            "\(error)" == "auth: SMTP authentication failed: 535 5.7.8 bad credentials"
        }
    }

    @Test("one recipient refused, one accepted; no lone '.' in the data but the terminator; 421 mid-session ends it")
    func recipientsAndDotStuffing() async throws {
        let server = try await ScriptedIMAPServer(greeting: "220 hi\r\n", respond: { tag, verb, line in
            if line.hasPrefix("RCPT TO:<nobody@") { return "550 5.1.1 no such user\r\n" }
            return Self.script()(tag, verb, line)
        })
        defer { Task { await server.close() } }
        let delivery = try await SMTPSession.withSession(configuration(server.port)) { session in
            try await session.send(message, recipients: ["nobody@example.test", "it@example.test"])
        }
        #expect(delivery.accepted == ["it@example.test"])
        #expect(delivery.refused["nobody@example.test"]?.code == 550)
        let lines = await server.receivedLines
        // Quoted-printable already encodes a leading "." (=2E), so a lone "." in the text
        // can never end the DATA phase early; the only bare "." is the terminator.
        #expect(lines.contains("=2Estarts with a dot") && lines.contains("=2E"))
        #expect(lines.filter { $0 == "." }.count == 1)
        #expect(lines.contains("AUTH PLAIN AGFsZXJ0cwBwdw=="))
        #expect(lines.suffix(2) == [".", "QUIT"])

        let closing = try await ScriptedIMAPServer(greeting: "220 hi\r\n", respond: Self.script(["MAIL": "421 4.3.2 shutting down\r\n"]))
        defer { Task { await closing.close() } }
        await #expect {
            try await SMTPSession.withSession(configuration(closing.port)) { session in try await session.send(message) }
        } throws: { error in
            (error as? SMTPError)?.isTransient == true && "\(error)".contains("421")
        }
    }

    @Test("a recipient or a sender carrying CRLF never reaches the wire as a command of its own")
    func crlfInAddresses() async throws {
        let server = try await ScriptedIMAPServer(greeting: "220 hi\r\n", respond: Self.script())
        defer { Task { await server.close() } }
        let delivery = try await SMTPSession.withSession(configuration(server.port)) { session in
            try await session.send(message, recipients: ["a@b\r\nNOOP", "it@example.test"])
        }
        #expect(delivery.accepted == ["it@example.test"])
        #expect(delivery.refused["a@b\r\nNOOP"]?.code == 501)
        var forged = message
        forged.from = MailAddress("a@b\r\nNOOP")
        await #expect(throws: SMTPError.self) {
            try await SMTPSession.withSession(configuration(server.port)) { session in try await session.send(forged) }
        }
        let lines = await server.receivedLines
        #expect(!lines.contains("NOOP") && !lines.contains { $0.hasPrefix("RCPT TO:<a@b") || $0.hasPrefix("MAIL FROM:<a@b") }, "\(lines)")
    }
}
