import Foundation
import Testing

/// Failures end in exit 2 with one line naming the stage, and credentials never leave
/// the machine unprotected nor appear in output.
@Suite("probe failures and security against Dovecot", .requires(.dovecot))
struct SecurityAndFailureTests {
    @Test("wrong password: exit 2, an auth message, the password never echoed")
    func wrongPassword() async throws {
        let dovecot = try await TestDovecot.shared()
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("mg-wrong-\(UUID()).pass")
        let password = "not-the-password-\(UUID().uuidString.prefix(8))"
        try password.write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        let out = try await Subprocess.run(Paths.mailgauge, [
            "probe", "imaps://alice@localhost:\(dovecot.imapsPort)", "--ca-file", dovecot.caFile,
            "--password-file", secret.path, "--log-level", "trace",
        ])
        #expect(out.status == 2)
        #expect(out.stderr.contains("auth: login failed [AUTHENTICATIONFAILED]"))
        #expect(!out.stderr.contains(password) && !out.stdout.contains(password))
        #expect(out.stderr.split(separator: "\n").last?.hasPrefix("mailgauge: probe alice@localhost") == true)
    }

    @Test("CA that did not sign the server's certificate: TLS error, no credentials sent",
          arguments: ["imaps", "imap"])
    func wrongCA(scheme: String) async throws {
        let dovecot = try await TestDovecot.shared()
        let user = "tlswatch"
        let port = scheme == "imaps" ? dovecot.imapsPort : dovecot.imapPort
        for caArgs in [["--ca-file", dovecot.otherCAFile], []] {  // wrong CA; system store
            let out = try await Subprocess.run(Paths.mailgauge, [
                "probe", "\(scheme)://\(user)@localhost:\(port)", "--password-file", dovecot.account(user).password_file,
            ] + caArgs)
            #expect(out.status == 2)
            #expect(out.stderr.contains("TLS: certificate verify failed"), "\(out.stderr)")
        }
        // Dovecot logs every login attempt with the user name; none may exist for this user.
        #expect(!dovecot.logContains("user=<\(user)>"))
    }

    @Test("host name not in the certificate: TLS error")
    func wrongHostName() async throws {
        let dovecot = try await TestDovecot.shared()
        // The certificate names localhost and 127.0.0.1, not 127.0.0.2 (still loopback).
        let out = try await Subprocess.run(Paths.mailgauge, [
            "probe", "imaps://tlswatch@127.0.0.2:\(dovecot.imapsPort)", "--ca-file", dovecot.caFile,
            "--password-file", dovecot.account("tlswatch").password_file, "--timeout", "5",
        ])
        #expect(out.status == 2)
        #expect(out.stderr.contains("TLS:") || out.stderr.contains("connect:"), "\(out.stderr)")
    }

    @Test("implicit TLS against the STARTTLS port names the likely mistake")
    func tlsToPlainPort() async throws {
        let dovecot = try await TestDovecot.shared()
        let out = try await Subprocess.run(Paths.mailgauge, [
            "probe", "imaps://tlswatch@localhost:\(dovecot.imapPort)", "--ca-file", dovecot.caFile,
            "--password-file", dovecot.account("tlswatch").password_file, "--timeout", "5",
        ])
        #expect(out.status == 2)
        #expect(out.stderr.contains("TLS:"), "\(out.stderr)")
    }

    @Test("connection refused and usage errors exit 2")
    func connectAndUsage() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("mg-\(UUID()).empty")
        try "".write(to: empty, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: empty) }
        let refused = try await Subprocess.run(Paths.mailgauge, [
            "probe", "imaps://x@127.0.0.1:1", "--password-file", empty.path,
        ])
        #expect(refused.status == 2)
        let emptySecret = refused.stderr
        #expect(emptySecret.contains("empty"), "an empty secret file is refused before connecting")

        let pw = FileManager.default.temporaryDirectory.appendingPathComponent("mg-\(UUID()).pass")
        try "x\n".write(to: pw, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: pw) }
        let out = try await Subprocess.run(Paths.mailgauge, ["probe", "imaps://x@127.0.0.1:1", "--password-file", pw.path])
        #expect(out.status == 2)
        #expect(out.stderr.contains("connect: 127.0.0.1:1: "), "\(out.stderr)")
        #expect(out.stderr.contains("refused"), "\(out.stderr)")

        let usage = try await Subprocess.run(Paths.mailgauge, ["probe", "pop3://x@host"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("scheme must be imaps:// or imap://"))
        let badOption = try await Subprocess.run(Paths.mailgauge, ["probe", "imaps://x@h", "--method", "magic"])
        #expect(badOption.status == 2)
        let help = try await Subprocess.run(Paths.mailgauge, ["probe", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--insecure-plaintext"))
    }
}
