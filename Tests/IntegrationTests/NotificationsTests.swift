import Foundation
import MailGaugeCore
import Testing

/// Alert mail and webhooks over real runs, to a real SMTP server (aiosmtpd with STARTTLS
/// and AUTH) and a real Alertmanager.
@Suite("notifications to real servers", .serialized, .requires(.dovecot, .alertmanager, .aiosmtpd, .python3))
struct NotificationsTests {
    static func config(_ dovecot: TestDovecot, dir: URL, smtp: String, extra: String = "", accounts: String? = nil) throws -> String {
        let path = dir.appendingPathComponent("mailgauge.yml").path
        try """
            \(TestConfig.header(dovecot, dir: dir))
            accounts:
            \(accounts ?? """
              - { id: alice, user: alice, password_file: \(dovecot.secretFile("alice")), owner_email: alice@example.test }
              - { id: hank, user: hank, password_file: \(dovecot.secretFile("hank")), owner_email: hank@example.test }
              - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")), owner_email: carol@example.test, locale: zh-CN }
            """)
            metrics: { textfile: \(dir.path)/mailgauge.prom }
            alerts:
              email:
                \(smtp)
                from: "mailgauge <mailgauge@example.test>"
                to: [postmaster@example.test]
                notify_owner: true
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func smtp(_ sink: SMTPSink, dovecot: TestDovecot, port: Int? = nil, tls: String = "starttls", ca: String? = nil) throws -> String {
        "smtp: { host: localhost, port: \(port ?? sink.port), tls: \(tls), user: \(sink.user), password_file: \(try sink.passwordFile()), ca_file: \(ca ?? dovecot.caFile) }"
    }

    func storage(_ dovecot: TestDovecot, _ user: String) async throws -> (used: UInt64, limit: UInt64) {
        let q = try #require(try await dovecot.doveadmQuota(user).first { $0.resource == "STORAGE" })
        return (q.value * 1024, try #require(q.limit) * 1024)
    }

    @Test("digest and owner notices over STARTTLS + AUTH; nothing new on the next run; resolved after usage drops")
    func digestAndOwnerNotices() async throws {
        let dovecot = try await TestDovecot.shared()
        let sink = try await SMTPSink(dovecot: dovecot)
        defer { sink.stop() }
        let dir = try TestFiles.directory("mg-mail")
        let config = try Self.config(dovecot, dir: dir, smtp: try Self.smtp(sink, dovecot: dovecot))
        let hankLimit = try #require(dovecot.account("hank").limit_kib)
        // The suite runs its tests one at a time (they share hank); start from his seeded limit.
        try await dovecot.setQuotaLimit("hank", kib: hankLimit)

        let first = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config, "--log-level", "trace"], timeoutSeconds: 120)
        #expect(first.status == 0, "\(first.stderr)")
        // The SMTP dialogue is traced, the credential is not (neither plain nor base64).
        #expect(first.stderr.contains("C: AUTH PLAIN <redacted>"), "\(first.stderr)")
        for secret in [sink.password, Data(sink.password.utf8).base64EncodedString(),
                       Data(([0] + Array(sink.user.utf8) + [0] + Array(sink.password.utf8))).base64EncodedString()] {
            #expect(!first.stderr.contains(secret) && !first.stdout.contains(secret))
        }
        let messages = try await sink.messages()
        try #require(messages.count == 3, "digest + carol + hank: \(messages.map(\.subject))")
        for m in messages {
            #expect(m.defects.isEmpty, "\(m.subject): \(m.defects)")
            #expect(m.content_type == "multipart/alternative" && m.html != nil)
            #expect(m.auto_submitted == "auto-generated")
            #expect(m.envelope.tls && m.envelope.authenticated && m.envelope.mail_from == "mailgauge@example.test")
        }
        let carol = try await storage(dovecot, "carol"), hank = try await storage(dovecot, "hank")
        let digest = try #require(messages.first { $0.to == "postmaster@example.test" })
        #expect(digest.subject == "[mailgauge] 1 critical, 1 warning")
        let text = try #require(digest.text)
        let carolLine = "[CRITICAL] carol: STORAGE usage at \(SizeFormat.percent(Double(carol.used) / Double(carol.limit))) (critical) — \(SizeFormat.bytes(carol.used)) of \(SizeFormat.bytes(carol.limit)) (new)"
        let hankLine = "[WARNING] hank: STORAGE usage at \(SizeFormat.percent(Double(hank.used) / Double(hank.limit))) — \(SizeFormat.bytes(hank.used)) of \(SizeFormat.bytes(hank.limit)) (new)"
        #expect(text.contains(carolLine), "\(text)")
        #expect(text.contains(hankLine), "\(text)")
        #expect(try #require(text.range(of: carolLine)).lowerBound < (try #require(text.range(of: hankLine))).lowerBound, "critical first")
        #expect(!text.contains("alice"), "alice is at 50 %: no alert")

        // carol's notice: Simplified Chinese, RFC 2047 subject, her largest folders.
        let zh = try #require(messages.first { $0.envelope.rcpt_tos == ["carol@example.test"] })
        #expect(zh.subject == "请尽快处理：您的邮箱已使用 \(SizeFormat.percent(Double(carol.used) / Double(carol.limit)))")
        #expect(zh.raw_subject?.hasPrefix("=?UTF-8?B?") == true, "\(zh.raw_subject ?? "")")
        let folders = try await dovecot.doveadmFolders("carol")
        let zhText = try #require(zh.text)
        for name in ["Trash", "Junk", "INBOX", "Sent"] {
            let (count, vsize) = try #require(folders[name])
            #expect(zhText.contains("- \(name)：\(SizeFormat.bytes(vsize))，\(count) 封邮件。"), "\(name) in \(zhText)")
        }
        let en = try #require(messages.first { $0.envelope.rcpt_tos == ["hank@example.test"] })
        #expect(en.subject == "Your mailbox is \(SizeFormat.percent(Double(hank.used) / Double(hank.limit))) full")
        let trash = try #require(try await dovecot.doveadmFolders("hank")["Trash"])
        #expect(en.text?.contains("- Trash: \(SizeFormat.bytes(trash.1)) in \(trash.0) messages. Empty the Trash") == true, "\(en.text ?? "")")

        // Same state: nothing new is sent.
        let second = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(second.status == 0)
        #expect(try await sink.messages().count == 3)

        // hank's limit is raised: his usage drops below warning − hysteresis → a resolved
        // notice in the admin digest, nothing to him.
        try await dovecot.setQuotaLimit("hank", kib: hankLimit * 2)
        let third = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(third.status == 0)
        #expect(third.stdout.contains("ALERT resolved warning hank STORAGE"), "\(third.stdout)\(third.stderr)")
        let after = try await sink.messages()
        try #require(after.count == 4, "\(after.map(\.subject))")
        #expect(after[3].subject == "[mailgauge] 1 resolved")
        #expect(after[3].text?.contains("Resolved\n  - [WARNING] hank: STORAGE usage at") == true, "\(after[3].text ?? "")")
        try await dovecot.setQuotaLimit("hank", kib: hankLimit)
    }

    @Test("SMTP down: the run still succeeds, the failure is counted, and the next run delivers the notice")
    func failedDeliveryIsRetried() async throws {
        let dovecot = try await TestDovecot.shared()
        let sink = try await SMTPSink(dovecot: dovecot)
        defer { sink.stop() }
        let dir = try TestFiles.directory("mg-mail-retry")
        let accounts = "  - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")) }"
        let closedPort = try freePort()
        var config = try Self.config(dovecot, dir: dir, smtp: try Self.smtp(sink, dovecot: dovecot, port: closedPort), accounts: accounts)
        let first = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(first.status == 0, "a channel failure does not fail the run: \(first.stderr)")
        #expect(first.stderr.contains("notification not delivered; will retry next run"), "\(first.stderr)")
        #expect(first.stderr.contains("connection refused"), "\(first.stderr)")
        let metrics = try String(contentsOfFile: dir.appendingPathComponent("mailgauge.prom").path, encoding: .utf8)
        #expect(metrics.contains("mailgauge_notifications_failed_total{channel=\"email\"} 1\n"), "\(metrics)")
        #expect(metrics.contains("mailgauge_notifications_pending 1\n"), "\(metrics)")

        config = try Self.config(dovecot, dir: dir, smtp: try Self.smtp(sink, dovecot: dovecot), accounts: accounts)
        let second = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(second.status == 0)
        let messages = try await sink.messages()
        #expect(messages.map(\.subject) == ["[mailgauge] 1 critical"], "the notice of the first run, delivered late")
        let after = try String(contentsOfFile: dir.appendingPathComponent("mailgauge.prom").path, encoding: .utf8)
        #expect(after.contains("mailgauge_notifications_failed_total{channel=\"email\"} 1\n"))
        #expect(after.contains("mailgauge_notifications_pending 0\n"))
    }

    @Test("implicit TLS (465 style) works; a wrong CA or a server without STARTTLS is refused before AUTH")
    func tlsModes() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-mail-tls")
        let accounts = "  - { id: alice, user: alice, password_file: \(dovecot.secretFile("alice")) }"

        let implicit = try await SMTPSink(tls: "implicit", dovecot: dovecot)
        defer { implicit.stop() }
        var config = try Self.config(dovecot, dir: dir, smtp: try Self.smtp(implicit, dovecot: dovecot, tls: "implicit"), accounts: accounts)
        let ok = try await Subprocess.run(Paths.mailgauge, ["alert", "test", "-c", config])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("ok     email: accepted by 1 recipient(s): 250 2.0.0 Ok: queued as 0001"), "\(ok.stdout)")
        let test = try #require(try await implicit.messages().first)
        #expect(test.subject == "[mailgauge] test notice" && test.envelope.tls)

        config = try Self.config(dovecot, dir: dir, smtp: try Self.smtp(implicit, dovecot: dovecot, tls: "implicit", ca: dovecot.otherCAFile),
                                 accounts: accounts)
        let wrongCA = try await Subprocess.run(Paths.mailgauge, ["alert", "test", "-c", config])
        #expect(wrongCA.status == 1)
        #expect(wrongCA.stdout.contains("FAILED email: TLS: certificate verify failed"), "\(wrongCA.stdout)")

        let plain = try await SMTPSink(tls: "none", dovecot: dovecot)
        defer { plain.stop() }
        config = try Self.config(dovecot, dir: dir, smtp: try Self.smtp(plain, dovecot: dovecot), accounts: accounts)
        let noStartTLS = try await Subprocess.run(Paths.mailgauge, ["alert", "test", "-c", config])
        #expect(noStartTLS.status == 1)
        #expect(noStartTLS.stdout.contains("does not offer STARTTLS; refusing to continue in plaintext"), "\(noStartTLS.stdout)")
        #expect(try await plain.messages().isEmpty)
        #expect(plain.log.contains(">> b'EHLO"), "\(plain.log)")
        #expect(!plain.log.contains(">> b'AUTH") && !plain.log.contains(">> b'MAIL"), "no credential, no mail: \(plain.log)")
    }

    @Test("Alertmanager: firing alerts posted each run, read back from its API; alert test reports per channel")
    func alertmanager() async throws {
        let dovecot = try await TestDovecot.shared()
        let am = try await TestAlertmanager()
        defer { am.stop() }
        let dir = try TestFiles.directory("mg-am")
        let path = dir.appendingPathComponent("mailgauge.yml").path
        try """
            \(TestConfig.header(dovecot, dir: dir))
            accounts:
              - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")) }
              - { id: alice, user: alice, password_file: \(dovecot.secretFile("alice")) }
            alerts:
              webhook: { url: "\(am.alertsURL)", format: alertmanager, insecure_plaintext: true }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let run = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", path], timeoutSeconds: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let alerts = try await am.alerts()
        let carol = try #require(alerts.first { ($0["labels"] as? [String: String])?["account"] == "carol" }, "\(alerts)")
        let labels = try #require(carol["labels"] as? [String: String])
        #expect(labels["alertname"] == "MailboxStorageCritical" && labels["severity"] == "critical" && labels["resource"] == "STORAGE")
        #expect((carol["status"] as? [String: Any])?["state"] as? String == "active")
        let annotations = try #require(carol["annotations"] as? [String: String])
        #expect(annotations["summary"]?.hasPrefix("carol: STORAGE usage at 97.3 %") == true, "\(annotations)")
        #expect(!alerts.contains { ($0["labels"] as? [String: String])?["account"] == "alice" })

        let test = try await Subprocess.run(Paths.mailgauge, ["alert", "test", "-c", path])
        #expect(test.status == 0, "\(test.stdout)")
        #expect(test.stdout.contains("ok     webhook http://127.0.0.1:\(am.port): HTTP 2xx"))
        #expect(try await am.alerts().contains { ($0["labels"] as? [String: String])?["alertname"] == "MailgaugeTest" })
    }

    @Test("generic JSON webhook: one POST with the run's notices; nothing on a run without news")
    func jsonWebhook() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-webhook")
        let receiver = try await WebhookReceiver(dir: dir)
        defer { receiver.stop() }
        let port = receiver.port
        let path = dir.appendingPathComponent("mailgauge.yml").path
        try """
            \(TestConfig.header(dovecot, dir: dir))
            accounts:
              - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")) }
            alerts:
              webhook: { url: "http://127.0.0.1:\(port)/hooks/secret-token", format: json, insecure_plaintext: true }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let first = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", path], timeoutSeconds: 120)
        #expect(first.status == 0)
        #expect(!first.stderr.contains("secret-token"), "webhook URLs are logged without their path")
        let posted = receiver.bodies()
        try #require(posted.count == 1)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(posted[0].utf8)) as? [String: Any])
        let notices = try #require(body["notices"] as? [[String: Any]])
        #expect(body["source"] as? String == "mailgauge")
        #expect(notices.count == 1)
        #expect(notices.first?["account_id"] as? String == "carol" && notices.first?["rule"] as? String == "critical"
                && notices.first?["kind"] as? String == "firing")
        let carol = try await storage(dovecot, "carol")
        #expect((notices.first?["usage"] as? NSNumber)?.uint64Value == carol.used)
        #expect((notices.first?["limit"] as? NSNumber)?.uint64Value == carol.limit && notices.first?["figures_resource"] as? String == "STORAGE")
        _ = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", path], timeoutSeconds: 120)
        #expect(receiver.bodies().count == 1)
    }

    @Test("sendmail transport: the -i -f FROM -- RCPT command line, LF line endings; a temporary failure is retried")
    func sendmailTransport() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-sendmail")
        // Stands in for /usr/sbin/sendmail's command-line contract only: records its
        // arguments and input, exits with the status in `status` (75 = EX_TEMPFAIL).
        let script = dir.appendingPathComponent("sendmail").path
        try """
            #!/bin/sh
            n=$(ls \(dir.path)/out/*.args 2>/dev/null | wc -l)
            mkdir -p \(dir.path)/out
            printf '%s\\n' "$@" > \(dir.path)/out/$n.args
            cat > \(dir.path)/out/$n.eml
            exit $(cat \(dir.path)/status)
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        try "75".write(toFile: dir.appendingPathComponent("status").path, atomically: true, encoding: .utf8)
        let accounts = "  - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")) }"
        let config = try Self.config(dovecot, dir: dir, smtp: "sendmail: \(script)", accounts: accounts)
        let first = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(first.status == 0)
        #expect(first.stderr.contains("exited 75"), "\(first.stderr)")
        try "0".write(toFile: dir.appendingPathComponent("status").path, atomically: true, encoding: .utf8)
        _ = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        let args = try String(contentsOfFile: "\(dir.path)/out/1.args", encoding: .utf8)
        #expect(args == "-i\n-f\nmailgauge@example.test\n--\npostmaster@example.test\n")
        let message = try String(contentsOfFile: "\(dir.path)/out/1.eml", encoding: .utf8)
        #expect(!message.contains("\r\n") && message.contains("Subject: [mailgauge] 1 critical\n"), "\(message.prefix(300))")
        #expect(!FileManager.default.fileExists(atPath: "\(dir.path)/out/2.args"), "delivered once")
    }
}
