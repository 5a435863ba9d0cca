import Foundation
import MailGaugeCore
import Testing
@testable import Notify

@Suite struct NoticeTextsTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let utc = TimeZone(identifier: "UTC")!

    func notice(_ account: String, _ rule: String, _ kind: Notice.Kind, value: Double?, used: UInt64 = 0, limit: UInt64 = 0,
                fullAt: Date? = nil) -> Notice {
        Notice(accountID: account, user: "\(account)@example.com", kind: kind, rule: NoticeRule(rawValue: rule)!, resource: "STORAGE", value: value,
               usedBytes: ByteCount(clamping: used), limitBytes: ByteCount(clamping: limit), fullAt: fullAt, at: now)
    }

    @Test func digestListsMostUrgentFirstWithFigures() throws {
        let texts = try NoticeTexts(timeZone: utc)
        let mail = texts.digest([
            notice("bob", "warning", .firing, value: 0.85, used: 850 * 1024, limit: 1000 * 1024),
            notice("carol", "critical", .firing, value: 0.973, used: 973 * 1024, limit: 1000 * 1024, fullAt: now.addingTimeInterval(3 * 86400)),
            notice("frank", "warning", .resolved, value: 0.5),
        ], locale: "en", host: "mon1", configPath: "/etc/mailgauge/config.yml", now: now)
        #expect(mail.subject == "[mailgauge] 2 new, 1 resolved")
        let carol = try #require(mail.text.range(of: "carol"))
        let bob = try #require(mail.text.range(of: "bob"))
        #expect(carol.lowerBound < bob.lowerBound)
        #expect(mail.text.contains("[CRITICAL] carol (carol@example.com): STORAGE usage at 97.3 % (critical) — 973 KiB of 1000 KiB (97.3 %); full by 2026-11-21"))
        #expect(mail.text.contains("Resolved\n  - [WARNING] frank"))
        #expect(mail.html.contains("<td>carol (carol@example.com)</td>"))
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
        let n = Notice(accountID: "carol", user: "carol@example.com", kind: .escalated, rule: .critical, resource: "STORAGE",
                       value: 0.97, usedBytes: 97, limitBytes: 100, fullAt: Date(timeIntervalSince1970: 1_800_000_000),
                       failure: nil, at: Date(timeIntervalSince1970: 1_795_000_000))
        let data = try Notice.jsonEncoder.encode(n)
        #expect(String(decoding: data, as: UTF8.self).contains("\"account_id\":\"carol\""))
        #expect(try Notice.jsonDecoder.decode(Notice.self, from: data) == n)
    }
}
