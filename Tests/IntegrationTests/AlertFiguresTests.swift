import Foundation
import MailGaugeCore
import Testing

/// Alerts over real runs against the project's Dovecot, read at every far end: each
/// resource's own figures (message counts for a message limit, equal to doveadm's), `full`
/// as its own state, one digest line per account, and owner addresses from a template.
@Suite("alert figures over real runs", .serialized, .requires(.dovecot, .sqlite3, .alertmanager, .aiosmtpd, .python3))
struct AlertFiguresTests {
    struct Figures {
        var value: UInt64
        var limit: UInt64
        var percent: String { SizeFormat.percent(Double(value) / Double(limit)) }
    }

    func quota(_ dovecot: TestDovecot, _ user: String, _ resource: String) async throws -> Figures {
        let q = try #require(try await dovecot.doveadmQuota(user).first { $0.resource == resource })
        // doveadm gives STORAGE in KiB; mailgauge shows bytes.
        let scale: UInt64 = resource == "STORAGE" ? 1024 : 1
        return Figures(value: q.value * scale, limit: try #require(q.limit) * scale)
    }

    func config(_ dovecot: TestDovecot, dir: URL, locale: String, sink: SMTPSink, extra: String = "") throws -> String {
        let path = dir.appendingPathComponent("mailgauge.yml").path
        try """
            \(TestConfig.header(dovecot, dir: dir))
            defaults: { locale: \(locale), owner_email: "{user}@owners.example.test" }
            accounts:
              - { id: mona, user: mona, password_file: \(dovecot.secretFile("mona")) }
              - { id: oscar, user: oscar, password_file: \(dovecot.secretFile("oscar")) }
            alerts:
              email:
                smtp: { host: localhost, port: \(sink.port), tls: starttls, user: \(sink.user), password_file: \(try sink.passwordFile()), ca_file: \(dovecot.caFile) }
                from: "mailgauge <mailgauge@example.test>"
                to: [postmaster@example.test]
                notify_owner: true
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("message counts equal doveadm's in stdout, the digest, the owner notice, the JSON webhook and Alertmanager; full, folded, owners from a template")
    func everyChannel() async throws {
        let dovecot = try await TestDovecot.shared()
        let sink = try await SMTPSink(dovecot: dovecot)
        defer { sink.stop() }
        let am = try await TestAlertmanager()
        defer { am.stop() }
        let dir = try TestFiles.directory("mg-figures")
        let receiver = try await WebhookReceiver(dir: dir)
        defer { receiver.stop() }
        let path = try config(dovecot, dir: dir, locale: "en", sink: sink, extra: """
              webhook:
                - { url: "http://127.0.0.1:\(receiver.port)/hook", format: json, insecure_plaintext: true }
                - { url: "\(am.alertsURL)", format: alertmanager, insecure_plaintext: true }
            """)
        let mona = try await quota(dovecot, "mona", "MESSAGE")
        let oscar = try await quota(dovecot, "oscar", "STORAGE"), oscarMessages = try await quota(dovecot, "oscar", "MESSAGE")
        try #require(mona.value * 100 >= mona.limit * 95 && mona.value < mona.limit, "seeded at 95 % of the message limit: \(mona)")
        try #require(oscar.value > oscar.limit && oscarMessages.value * 100 >= oscarMessages.limit * 80, "seeded over quota: \(oscar)")
        let monaCounts = "\(SizeFormat.count(mona.value)) of \(SizeFormat.count(mona.limit)) messages"
        let oscarSizes = "\(SizeFormat.bytes(oscar.value)) of \(SizeFormat.bytes(oscar.limit))"
        let oscarCounts = "\(SizeFormat.count(oscarMessages.value)) of \(SizeFormat.count(oscarMessages.limit)) messages"

        let run = try await Subprocess.run(Paths.mailgauge, ["run", "-c", path], timeoutSeconds: 120)
        #expect(run.status == 0, "\(run.stderr)")

        // stdout: full first, each resource with its own figures, no filling, no critical for oscar's storage.
        let alerts = run.stdout.split(separator: "\n").filter { $0.hasPrefix("ALERT") }.map(String.init)
        #expect(alerts == [
            "ALERT firing full oscar STORAGE: \(oscar.percent), full: new mail is refused (\(oscarSizes))",
            "ALERT firing critical mona MESSAGE: \(mona.percent) (\(monaCounts))",
            "ALERT firing warning oscar MESSAGE: \(oscarMessages.percent) (\(oscarCounts))",
        ], "\(run.stdout)")

        // The admin digest: totals, one line per account, most urgent first.
        let messages = try await sink.messages()
        let digest = try #require(messages.first { $0.to == "postmaster@example.test" }, "\(messages.map(\.subject))")
        #expect(digest.subject == "[mailgauge] 1 mailbox full, 1 critical")
        let lines = (digest.text ?? "").split(separator: "\n").filter { $0.hasPrefix("  - ") }.map(String.init)
        #expect(lines == [
            "  - [FULL] oscar: STORAGE full: new mail is refused — \(oscarSizes) (new); MESSAGE usage at \(oscarMessages.percent) — \(oscarCounts) (new)",
            "  - [CRITICAL] mona: MESSAGE usage at \(mona.percent) (critical) — \(monaCounts) (new)",
        ], "\(digest.text ?? "")")

        // Owner notices, to addresses from the template: counts and count advice for mona.
        let monaMail = try #require(messages.first { $0.envelope.rcpt_tos == ["mona@owners.example.test"] }, "\(messages.map(\.envelope.rcpt_tos))")
        let monaText = monaMail.text ?? ""
        #expect(monaText.contains("It holds \(SizeFormat.count(mona.value)) messages of the \(SizeFormat.count(mona.limit)) messages allowed (\(mona.percent))."), "\(monaText)")
        #expect(monaText.contains("These folders hold the most messages:"), "\(monaText)")
        let trash = try #require(try await dovecot.doveadmFolders("mona")["Trash"])
        #expect(monaText.contains("- Trash: \(SizeFormat.bytes(trash.1)) in \(trash.0) messages. Empty the Trash: every message in it still counts."), "\(monaText)")
        let oscarMail = try #require(messages.first { $0.envelope.rcpt_tos == ["oscar@owners.example.test"] })
        #expect(oscarMail.subject == "Your mailbox is full: new mail to you is being refused")

        // The JSON webhook: the resource's own figures and unit.
        let posted = try #require(receiver.bodies().first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(posted.utf8)) as? [String: Any])
        let notices = try #require(body["notices"] as? [[String: Any]])
        let monaNotice = try #require(notices.first { $0["account_id"] as? String == "mona" })
        #expect((monaNotice["usage"] as? NSNumber)?.uint64Value == mona.value && (monaNotice["limit"] as? NSNumber)?.uint64Value == mona.limit)
        #expect(monaNotice["figures_resource"] as? String == "MESSAGE" && monaNotice["rule"] as? String == "critical")

        // Alertmanager: MailboxFull for oscar, mona's annotation in messages.
        let amAlerts = try await am.alerts()
        func alert(_ account: String, _ resource: String) -> [String: Any]? {
            amAlerts.first { ($0["labels"] as? [String: String]).map { $0["account"] == account && $0["resource"] == resource } ?? false }
        }
        #expect((alert("oscar", "STORAGE")?["labels"] as? [String: String])?["alertname"] == "MailboxFull", "\(amAlerts)")
        let monaAnnotations = try #require(alert("mona", "MESSAGE")?["annotations"] as? [String: String], "\(amAlerts)")
        #expect(monaAnnotations["description"]?.contains("(\(monaCounts) (\(mona.percent)))") == true, "\(monaAnnotations)")

        // 48 hours of growth up to oscar's limit: the forecast says "full now", yet a full
        // mailbox is not "filling"; report and check say full.
        let hour = (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600
        var sql = "BEGIN;"
        for i in 0..<48 {
            let usage = 300 + (oscar.limit / 1024 - 300) * UInt64(i) / 47
            sql += "INSERT INTO quota_rollup VALUES ('oscar', 'hour', \(hour - Double(48 - i) * 3600), 'User quota', 'STORAGE', \(usage), \(oscar.limit / 1024), 1);"
        }
        let seeded = try await Subprocess.run("/usr/bin/sqlite3", [dir.appendingPathComponent("mailgauge.sqlite").path, sql + "DELETE FROM forecast WHERE account_id = 'oscar'; DELETE FROM quota_series WHERE account_id = 'oscar'; COMMIT;"])
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let second = try await Subprocess.run(Paths.mailgauge, ["run", "-c", path], timeoutSeconds: 120)
        #expect(second.status == 0 && !second.stdout.contains("ALERT"), "nothing new, and no filling: \(second.stdout)")
        let report = try await Subprocess.run(Paths.mailgauge, ["report", "-c", path, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [[String: Any]])
        let oscarRow = try #require(rows.first { $0["account"] as? String == "oscar" })
        #expect((oscarRow["alerts"] as? [String])?.sorted() == ["full STORAGE", "warning MESSAGE"], "\(oscarRow)")
        let check = try await Subprocess.run(Paths.mailgauge, ["check", "--config", path, "--account", "oscar"])
        #expect(check.status == 2 && check.stdout.hasPrefix("MAILGAUGE CRITICAL - oscar: STORAGE FULL: new mail is refused, "), "\(check.stdout)")
        #expect(!check.stdout.contains("full by"), "\(check.stdout)")
    }

    @Test("the Chinese digest folds and counts the same way")
    func chineseDigest() async throws {
        let dovecot = try await TestDovecot.shared()
        let sink = try await SMTPSink(dovecot: dovecot)
        defer { sink.stop() }
        let dir = try TestFiles.directory("mg-figures-zh")
        let path = try config(dovecot, dir: dir, locale: "zh-CN", sink: sink)
        let mona = try await quota(dovecot, "mona", "MESSAGE")
        let oscar = try await quota(dovecot, "oscar", "STORAGE"), oscarMessages = try await quota(dovecot, "oscar", "MESSAGE")
        let run = try await Subprocess.run(Paths.mailgauge, ["run", "-c", path], timeoutSeconds: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let digest = try #require(try await sink.messages().first { $0.to == "postmaster@example.test" })
        #expect(digest.subject == "[mailgauge] 1 个邮箱已满，1 个严重")
        let lines = (digest.text ?? "").split(separator: "\n").filter { $0.hasPrefix("  - ") }.map(String.init)
        #expect(lines == [
            "  - [已满] oscar：STORAGE 已满：新邮件被拒收 — \(SizeFormat.bytes(oscar.value)) / \(SizeFormat.bytes(oscar.limit))（新）；"
                + "MESSAGE 用量达 \(oscarMessages.percent) — \(SizeFormat.count(oscarMessages.value)) / \(SizeFormat.count(oscarMessages.limit)) 封邮件（新）",
            "  - [严重] mona：MESSAGE 用量达 \(mona.percent)（严重） — \(SizeFormat.count(mona.value)) / \(SizeFormat.count(mona.limit)) 封邮件（新）",
        ], "\(digest.text ?? "")")
    }

    @Test("config check says how many accounts have no owner address")
    func ownerAddressCount() async throws {
        let dovecot = try await TestDovecot.shared()
        let sink = try await SMTPSink(dovecot: dovecot)
        defer { sink.stop() }
        let dir = try TestFiles.directory("mg-owners")
        let path = try config(dovecot, dir: dir, locale: "en", sink: sink)
        let templated = try await Subprocess.run(Paths.mailgauge, ["config", "check", path])
        #expect(templated.status == 0 && templated.stdout.contains("  owner addresses: 2 of 2 accounts\n"), "\(templated.stdout)")
        let yaml = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: ", owner_email: \"{user}@owners.example.test\"", with: "")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let bare = try await Subprocess.run(Paths.mailgauge, ["config", "check", path])
        #expect(bare.stdout.contains("  owner addresses: 0 of 2 accounts; 2 without (owner_email, owners_file or a template would give one): mona, oscar\n"),
                "\(bare.stdout)")
    }
}
