import Foundation
import Testing

/// Server health from a real run against the project's Dovecot and its test CA: what
/// mailgauge reports must equal what openssl reads from the certificate and what Dovecot
/// logged for each login.
@Suite("server health against Dovecot", .requires(.dovecot, .sqlite3, .promtool))
struct ServerHealthTests {
    /// "notAfter=Nov 29 20:02:22 2036 GMT" → seconds since 1970, via openssl and date.
    static func notAfter(_ pem: String) async throws -> Int {
        let out = try await Subprocess.run("/bin/sh", ["-c", "date -u -d \"$(openssl x509 -enddate -noout -in '\(pem)' | cut -d= -f2)\" +%s"])
        guard let seconds = Int(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestFailure("openssl: \(out.stderr)") }
        return seconds
    }

    @Test("expiry equals openssl's notAfter; version and cipher equal Dovecot's log; verification, check --server, report, capability change")
    func healthAgainstDovecot() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-health")
        let textfile = dir.appendingPathComponent("mailgauge.prom").path
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try """
            database: \(dir.path)/mailgauge.sqlite
            servers:
              dovecot: { host: localhost, port: \(dovecot.imapsPort), tls: implicit, ca_file: \(dovecot.caFile) }
              starttls: { host: localhost, port: \(dovecot.imapPort), tls: starttls, ca_file: \(dovecot.caFile) }
              untrusted: { host: localhost, port: \(dovecot.imapsPort), tls: implicit, ca_file: \(dovecot.otherCAFile) }
            accounts:
              - { id: alice, user: alice, server: dovecot, password_file: \(dovecot.secretFile("alice")) }
              - { id: bob, user: bob, server: dovecot, password_file: \(dovecot.secretFile("bob")) }
              - { id: ivan, user: ivan, server: starttls, password_file: \(dovecot.secretFile("ivan")) }
              - { id: ivan-untrusted, user: ivan, server: untrusted, password_file: \(dovecot.secretFile("ivan")) }
            metrics: { textfile: \(textfile) }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let logBefore = (try? String(contentsOfFile: dovecot.logFile, encoding: .utf8))?.utf8.count ?? 0
        let run = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(run.status == 1, "\(run.stderr)")

        // The certificate: the leaf's notAfter, or the CA's when earlier (both in ca_file's chain).
        let tlsDir = URL(fileURLWithPath: dovecot.caFile).deletingLastPathComponent().path
        let expected = min(try await Self.notAfter("\(tlsDir)/server.pem"), try await Self.notAfter(dovecot.caFile))
        let text = try String(contentsOfFile: textfile, encoding: .utf8)
        let endpoint = "localhost:\(dovecot.imapsPort)"
        #expect(text.contains("mailgauge_server_certificate_expiry_timestamp_seconds{server=\"dovecot\",endpoint=\"\(endpoint)\"} \(expected)\n"),
                "\(text.split(separator: "\n").filter { $0.contains("expiry") })")
        // Version and cipher as Dovecot logged them for these logins ("TLSv1.3 with cipher X (…)").
        let log = String(decoding: (try Data(contentsOf: URL(fileURLWithPath: dovecot.logFile))).dropFirst(logBefore), as: UTF8.self)
        let login = try #require(log.split(separator: "\n").first { $0.contains("Login: user=<alice>") }, "no login of alice in Dovecot's log")
        let tls = try #require(login.range(of: #"TLSv[0-9.]+ with cipher [A-Z0-9_-]+"#, options: .regularExpression).map { login[$0] })
        let parts = tls.split(separator: " ")
        let (version, cipher) = (String(parts[0]), String(parts[3]))
        #expect(text.contains("mailgauge_server_tls_info{server=\"dovecot\",endpoint=\"\(endpoint)\",version=\"\(version)\",cipher=\"\(cipher)\"} 1\n"),
                "\(text.split(separator: "\n").filter { $0.contains("tls_info") })")
        #expect(text.contains("mailgauge_server_tls_info{server=\"starttls\",endpoint=\"localhost:\(dovecot.imapPort)\",version=\"\(version)\""))
        #expect(text.contains("mailgauge_server_certificate_info{server=\"dovecot\",endpoint=\"\(endpoint)\",subject=\"CN=localhost\""))
        #expect(text.contains("mailgauge_server_certificate_verified{server=\"dovecot\",endpoint=\"\(endpoint)\"} 1\n"))
        #expect(text.contains("mailgauge_server_certificate_verified{server=\"untrusted\",endpoint=\"\(endpoint)\"} 0\n"))
        #expect(text.contains("mailgauge_server_login_duration_seconds_count{server=\"dovecot\",endpoint=\"\(endpoint)\"} 2\n"))
        #expect(text.contains("mailgauge_server_login_duration_seconds{server=\"dovecot\",endpoint=\"\(endpoint)\",quantile=\"0.9\"}"))
        #expect(!text.contains("mailgauge_server_capabilities_changed_timestamp_seconds"))
        let lint = try await MetricsAgainstDovecotTests.promtoolCheck(textfile)
        #expect(lint.status == 0 && lint.stdout.isEmpty && lint.stderr.isEmpty, "promtool: \(lint.stdout) \(lint.stderr)")

        // The plugin: OK with the real certificate; CRITICAL for the one that fails
        // verification; WARNING when the certificate expires within --cert-warning.
        let ok = try await Subprocess.run(Paths.mailgauge, ["check", "--config", config, "--server", "dovecot"])
        #expect(ok.status == 0 && ok.stdout.hasPrefix("MAILGAUGE SERVER OK - dovecot: \(endpoint) certificate expires in"), "\(ok.stdout)")
        #expect(ok.stdout.contains("\(version) \(cipher)"))
        let bad = try await Subprocess.run(Paths.mailgauge, ["check", "--config", config, "--server", "untrusted"])
        #expect(bad.status == 2 && bad.stdout.contains("TLS failure"), "\(bad.stdout)")
        let soon = try await Subprocess.run(Paths.mailgauge, ["check", "--config", config, "--server", "dovecot", "--cert-warning", "100000d",
                                                              "--cert-critical", "1d"])
        #expect(soon.status == 1, "\(soon.stdout)")

        let report = try await Subprocess.run(Paths.mailgauge, ["report", "-c", config])
        #expect(report.stdout.contains("Mail servers:") && report.stdout.contains("\(version) \(cipher)"), "\(report.stdout)")

        // The server's capabilities differ from the pass before: the change is marked.
        let database = "\(dir.path)/mailgauge.sqlite"
        _ = try await Subprocess.run("/usr/bin/sqlite3", [database, "UPDATE server_health SET capabilities = 'IMAP4REV1 X-GONE' WHERE server = 'dovecot'"])
        let again = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(again.status == 1)
        let after = try String(contentsOfFile: textfile, encoding: .utf8)
        #expect(after.contains("mailgauge_server_capabilities_changed_timestamp_seconds{server=\"dovecot\",endpoint=\"\(endpoint)\"}"), "\(after)")
        #expect(!after.contains("mailgauge_server_capabilities_changed_timestamp_seconds{server=\"starttls\""))
    }
}
