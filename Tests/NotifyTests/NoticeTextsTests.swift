import Foundation
import MailGaugeCore
import Testing
@testable import Notify

@Suite struct NoticeTextsTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let utc = TimeZone(identifier: "UTC")!

    func notice(_ account: String, _ rule: String, _ kind: Notice.Kind, value: Double?, used: UInt64? = nil, limit: UInt64? = nil,
                resource: String = "STORAGE", fullAt: Date? = nil) -> Notice {
        Notice(accountID: account, user: "\(account)@example.com", kind: kind, rule: NoticeRule(rawValue: rule)!, resource: resource, value: value,
               usage: used, limit: limit, fullAt: fullAt, at: now)
    }

    @Test func digestListsMostUrgentFirstWithFigures() throws {
        let texts = try NoticeTexts(timeZone: utc)
        let mail = texts.digest([
            notice("bob", "warning", .firing, value: 0.85, used: 850 * 1024, limit: 1000 * 1024),
            notice("carol", "critical", .firing, value: 0.973, used: 973 * 1024, limit: 1000 * 1024, fullAt: now.addingTimeInterval(3 * 86400)),
            notice("frank", "warning", .resolved, value: 0.5),
        ], locale: "en", host: "mon1", configPath: "/etc/mailgauge/config.yml", now: now)
        #expect(mail.subject == "[mailgauge] 1 critical, 1 warning, 1 resolved")
        let carol = try #require(mail.text.range(of: "carol"))
        let bob = try #require(mail.text.range(of: "bob"))
        #expect(carol.lowerBound < bob.lowerBound)
        #expect(mail.text.contains("[CRITICAL] carol (carol@example.com): STORAGE usage at 97.3 % (critical) — 973 KiB of 1000 KiB (new); full by 2026-11-21"))
        #expect(mail.text.contains("Resolved\n  - [WARNING] frank"))
        #expect(mail.html.contains("<td>carol (carol@example.com)</td>"))
    }

    /// The four accounts of issue 12, as a seeded Dovecot showed them.
    func issueTwelve() -> [Notice] {
        [
            notice("user0001", "full", .firing, value: 1.025, used: 618 * 1024, limit: 603 * 1024),
            notice("user0001", "critical", .firing, value: 0.962, used: 9620, limit: 10_000, resource: "MESSAGE"),
            notice("user0002", "warning", .firing, value: 0.94, used: 9400, limit: 10_000, resource: "MESSAGE"),
            notice("user0022", "critical", .firing, value: 0.962, used: 9620, limit: 10_000, resource: "MESSAGE"),
            notice("user0003", "filling", .firing, value: 3 * 86400, used: 700 * 1024, limit: 1000 * 1024,
                   fullAt: now.addingTimeInterval(3 * 86400)),
        ]
    }

    @Test func digestFoldsAnAccountIntoOneLineWithEachResourcesFigures() throws {
        let texts = try NoticeTexts(timeZone: utc)
        let mail = texts.digest(issueTwelve(), locale: "en", host: "mon1", configPath: "/etc/mailgauge/config.yml", now: now)
        #expect(mail.subject == "[mailgauge] 1 mailbox full, 1 critical, 1 filling, 1 warning")
        let lines = mail.text.split(separator: "\n").filter { $0.hasPrefix("  - ") }.map(String.init)
        #expect(lines == [
            "  - [FULL] user0001 (user0001@example.com): STORAGE full: new mail is refused — 618 KiB of 603 KiB (new); MESSAGE usage at 96.2 % (critical) — 9,620 of 10,000 messages (new)",
            "  - [CRITICAL] user0022 (user0022@example.com): MESSAGE usage at 96.2 % (critical) — 9,620 of 10,000 messages (new)",
            "  - [FILLING] user0003 (user0003@example.com): STORAGE full in 3.0 days — 700 KiB of 1000 KiB (70.0 %) (new); full by 2026-11-21",
            "  - [WARNING] user0002 (user0002@example.com): MESSAGE usage at 94.0 % — 9,400 of 10,000 messages (new)",
        ])
        #expect(mail.html.contains("9,620 of 10,000 messages (new)<br>"))
        let zh = texts.digest(issueTwelve(), locale: "zh-CN", host: "mon1", configPath: "/etc/mailgauge/config.yml", now: now)
        #expect(zh.subject == "[mailgauge] 1 个邮箱已满，1 个严重，1 个即将占满，1 个警告")
        #expect(zh.text.contains("  - [已满] user0001 (user0001@example.com)：STORAGE 已满：新邮件被拒收 — 618 KiB / 603 KiB（新）；MESSAGE 用量达 96.2 %（严重） — 9,620 / 10,000 封邮件（新）"), "\(zh.text)")
    }

    @Test func ownerNoticeForAMessageLimitGivesCountAdvice() throws {
        let texts = try NoticeTexts(timeZone: utc)
        let folders = [
            FolderSize(name: "INBOX", specialUse: [], messages: 7000, sizeBytes: 90_000_000),
            FolderSize(name: "Archive", specialUse: [], messages: 2000, sizeBytes: 400_000_000),
            FolderSize(name: "Trash", specialUse: ["\\Trash"], messages: 620, sizeBytes: 1_000_000),
        ]
        let mail = try #require(texts.ownerNotice([notice("user0022", "critical", .firing, value: 0.962, used: 9620, limit: 10_000, resource: "MESSAGE")],
                                                  folders: folders, locale: "en"))
        #expect(mail.subject == "Action needed: your mailbox is 96.2 % full")
        #expect(mail.text.contains("It holds 9,620 messages of the 10,000 messages allowed (96.2 %)."), "\(mail.text)")
        #expect(mail.text.contains("These folders hold the most messages:"))
        let order = ["Trash", "INBOX", "Archive"].map { mail.text.range(of: "- \($0):")?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "by message count")
        #expect(mail.text.contains("- INBOX: 85.8 MiB in 7,000 messages. Archive or delete old threads: many small messages add up."))
        let full = try #require(texts.ownerNotice([notice("user0001", "full", .firing, value: 1.025, used: 618 * 1024, limit: 603 * 1024)],
                                                  folders: [], locale: "en"))
        #expect(full.subject == "Your mailbox is full: new mail to you is being refused")
        #expect(full.text.contains("Your mailbox is full: new mail to you is being refused and returned to the sender. 618 KiB of 603 KiB (102.5 %) is in use."))
    }

    @Test func ownerNoticeNamesTheFoldersToClean() throws {
        let texts = try NoticeTexts(timeZone: utc)
        let folders = [
            FolderSize(name: "INBOX", specialUse: [], messages: 128, sizeBytes: 1_584_872),
            FolderSize(name: "Trash", specialUse: ["\\Trash"], messages: 38, sizeBytes: 464_332),
            FolderSize(name: "Sent", specialUse: ["\\Sent"], messages: 64, sizeBytes: 786_019),
            FolderSize(name: "Spam & Co", specialUse: ["\\Junk"], messages: 19, sizeBytes: 236_187),
            FolderSize(name: "Empty", specialUse: [], messages: 0, sizeBytes: 0),
        ]
        let mail = try #require(texts.ownerNotice([notice("carol", "critical", .firing, value: 0.97, used: 3890 * 1024, limit: 4000 * 1024)],
                                                  folders: folders, locale: nil))
        #expect(mail.subject == "Action needed: your mailbox is 97.3 % full")
        let order = ["Trash", "Spam & Co", "INBOX", "Sent"].map { mail.text.range(of: "- \($0):")?.lowerBound }
        #expect(order.allSatisfy { $0 != nil })
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted())
        #expect(mail.text.contains("- Trash: 453 KiB in 38 messages. Empty the Trash"))
        #expect(!mail.text.contains("Empty:"))
        // Text is not HTML-escaped; HTML is.
        #expect(mail.text.contains("Spam & Co"))
        #expect(mail.html.contains("Spam &amp; Co"))
    }

    @Test("an owner notice whose figures could not be read says ?, never 0 B of 0 B")
    func ownerNoticeWithUnknownFigures() throws {
        let texts = try NoticeTexts(timeZone: utc)
        let mail = try #require(texts.ownerNotice([notice("carol", "filling", .firing, value: 3 * 86400, fullAt: now.addingTimeInterval(3 * 86400))],
                                                  folders: [], locale: nil))
        #expect(!mail.text.contains("0 B") && !mail.text.contains("0.0 %"), "\(mail.text)")
        #expect(mail.text.contains("?"), "\(mail.text)")
    }

    @Test func chineseOwnerNotice() throws {
        let texts = try NoticeTexts(timeZone: utc)
        let mail = try #require(texts.ownerNotice([notice("li", "warning", .firing, value: 0.86, used: 860 * 1024, limit: 1000 * 1024)],
                                                  folders: [], locale: "zh_CN"))
        #expect(mail.subject == "您的邮箱已使用 86.0 %")
        #expect(mail.text.contains("已使用 860 KiB，共 1000 KiB（86.0 %）"))
    }

    @Test func fillingOnlyNoticeLeadsWithTheDate() throws {
        let texts = try NoticeTexts(timeZone: utc)
        let mail = try #require(texts.ownerNotice([notice("dan", "filling", .firing, value: 5 * 86400, used: 500 * 1024, limit: 1000 * 1024,
                                                          fullAt: now.addingTimeInterval(5 * 86400))], folders: [], locale: "en"))
        #expect(mail.subject == "Your mailbox will be full around 2026-11-23")
    }

    @Test func probeFailuresAndResolutionsDoNotGoToOwners() throws {
        let texts = try NoticeTexts(timeZone: utc)
        #expect(texts.ownerNotice([notice("a", "probe_failing", .firing, value: 3)], folders: [], locale: "en") == nil)
        #expect(texts.ownerNotice([notice("a", "warning", .resolved, value: 0.5)], folders: [], locale: "en") == nil)
    }

    @Test func templatesCanBeReplacedAndBrokenOnesAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir.path + "/en", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "Mailbox {{account}} at {{percent}}".write(toFile: dir.path + "/en/owner.subject.mustache", atomically: true, encoding: .utf8)
        let texts = try NoticeTexts(templatesDir: dir.path, timeZone: utc)
        let mail = try #require(texts.ownerNotice([notice("bob", "warning", .firing, value: 0.85, used: 85, limit: 100)], folders: [], locale: "en"))
        #expect(mail.subject == "Mailbox bob at 85.0 %")
        try "{{#unclosed}}".write(toFile: dir.path + "/en/owner.text.mustache", atomically: true, encoding: .utf8)
        #expect {
            _ = try NoticeTexts(templatesDir: dir.path, timeZone: utc)
        } throws: { error in
            "\(error)".contains("\(dir.path)/en/owner.text.mustache")
        }
    }

    @Test func alertmanagerBody() throws {
        let firing = notice("carol", "critical", .firing, value: 0.97, used: 97, limit: 100)
        let resolved = notice("frank", "warning", .resolved, value: 0.5)
        let data = try Webhook.alertmanagerBody(firing: [firing], resolved: [resolved], now: now, validForSeconds: 3600)
        let alerts = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(alerts.count == 2)
        let labels = try #require(alerts[0]["labels"] as? [String: String])
        #expect(labels["alertname"] == "MailboxStorageCritical")
        #expect(labels["account"] == "carol" && labels["severity"] == "critical" && labels["source"] == "mailgauge")
        #expect((alerts[0]["endsAt"] as? String)?.hasPrefix("2026-11-18T12:06:40") == true)
        #expect((alerts[1]["endsAt"] as? String)?.hasPrefix("2026-11-18T11:06:40") == true)
        #expect(Webhook.redacted("https://hooks.example.com:8443/services/T000/SECRET?token=x") == "https://hooks.example.com:8443")
    }
}

@Suite struct NoticeCodingTests {
    /// Notices wait in the database as JSON: what goes in must come out.
    @Test func roundTrip() throws {
        let n = Notice(accountID: "carol", user: "carol@example.com", kind: .escalated, rule: .critical, resource: "MESSAGE",
                       value: 0.97, usage: 388, limit: 400, fullAt: Date(timeIntervalSince1970: 1_800_000_000),
                       failure: nil, at: Date(timeIntervalSince1970: 1_795_000_000))
        let data = try Notice.jsonEncoder.encode(n)
        #expect(String(decoding: data, as: UTF8.self).contains("\"account_id\":\"carol\""))
        #expect(try Notice.jsonDecoder.decode(Notice.self, from: data) == n)
    }

    /// A notice an older version left in the outbox still decodes, with its STORAGE bytes.
    @Test func legacyOutboxPayload() throws {
        let old = #"{"account_id":"bob","at":"2026-11-18T11:06:40Z","kind":"firing","limit_bytes":3145728,"resource":"MESSAGE","rule":"warning","used_bytes":2621440,"user":"bob","value":0.85}"#
        let n = try Notice.jsonDecoder.decode(Notice.self, from: Data(old.utf8))
        #expect(n.usage == 2_621_440 && n.limit == 3_145_728 && n.figuresResource == "STORAGE" && n.resource == "MESSAGE")
        #expect(NoticeFigures.usage(n, locale: .en) == "2.50 MiB of 3.00 MiB")
    }
}
