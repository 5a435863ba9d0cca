import Foundation
import Logging
import MailGaugeCore
import Notify
import SMTPClient
import Synchronization
import Testing

/// An outbox in memory: what delivery reads and records, without a database.
final class MemoryOutbox: NotificationOutbox {
    struct Contents {
        var pending: [OutboxEntry] = []
        var delivered: [Int64] = []
        var failures: [String: Int] = [:]
    }

    let contents: Mutex<Contents>

    init(_ pending: [OutboxEntry]) { contents = Mutex(Contents(pending: pending)) }

    func pendingNotifications() throws -> [OutboxEntry] { contents.withLock { $0.pending } }
    func notificationsDelivered(ids: [Int64]) throws {
        contents.withLock { c in
            c.delivered += ids
            c.pending.removeAll { ids.contains($0.id) }
        }
    }
    func notificationsFailed(ids: [Int64], counterChannel: String, error: String) throws {
        contents.withLock { $0.failures[counterChannel, default: 0] += 1 }
    }
    func dropStaleNotifications(olderThan cutoff: Date) throws -> Int {
        contents.withLock { c in
            let stale = c.pending.filter { $0.createdAt < cutoff }
            c.pending.removeAll { $0.createdAt < cutoff }
            return stale.count
        }
    }
    func firingAlerts() throws -> [FiringAlert] { [] }
    func latestStates() throws -> [AccountState] { [] }
}

@Suite("routing and outbox delivery")
struct OutboxDeliveryTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func plan(email: Bool = true, admins: [String] = ["ops@example.test"], owners: [String: NotificationPlan.Owner] = [:],
              webhooks: [NotificationPlan.WebhookRoute] = []) -> NotificationPlan {
        let mail = email ? NotificationPlan.Email(from: MailAddress("mailgauge@example.test"), admins: admins, templatesDir: nil) {
            () async throws(NotifyError) -> MailTransport in throw NotifyError("no transport in this test")
        } : nil
        return NotificationPlan(stdout: true, email: mail, owners: owners, webhooks: webhooks, locale: "en", host: "test",
                                configPath: "/etc/mailgauge/config.yml", alertmanagerValidForSeconds: 3600)
    }

    func notice(_ id: String, _ kind: Notice.Kind, _ rule: NoticeRule) -> Notice {
        Notice(accountID: id, user: id, kind: kind, rule: rule, resource: rule == .probeFailing ? "probe" : "STORAGE", value: 0.9, at: now)
    }

    @Test("admins get everything, owners only news about their usage, Alertmanager only resolutions, JSON hooks everything")
    func route() {
        let json = NotificationPlan.WebhookRoute(url: "https://hooks.example.test/T0KEN", format: .json, timeoutSeconds: 5)
        let am = NotificationPlan.WebhookRoute(url: "http://am:9093/api/v2/alerts", format: .alertmanager, timeoutSeconds: 5)
        let p = plan(owners: ["bob": .init(address: "bob@example.test", locale: "en")], webhooks: [json, am])
        #expect(p.route(notice("bob", .firing, .warning)) == [.adminEmail, .ownerEmail(accountID: "bob"), json.channel])
        #expect(p.route(notice("bob", .resolved, .warning)) == [.adminEmail, json.channel, am.channel])
        #expect(p.route(notice("bob", .firing, .probeFailing)) == [.adminEmail, json.channel], "owners cannot fix a probe")
        #expect(p.route(notice("carol", .firing, .critical)) == [.adminEmail, json.channel], "carol's owner is not notified")
        #expect(plan(admins: []).route(notice("bob", .firing, .warning)) == [], "no admins, no owners: no mail")
        #expect(plan(email: false, owners: ["bob": .init(address: "bob@example.test", locale: "en")]).route(notice("bob", .firing, .warning)) == [],
                "owners are mailed only when email is configured")
    }

    @Test("a webhook's outbox key names it without revealing the URL, and survives the database's text form")
    func webhookKey() {
        let hook = NotificationPlan.WebhookRoute(url: "https://hooks.example.test/services/T0KEN", format: .json, timeoutSeconds: 5)
        #expect(!hook.channel.rawValue.contains("T0KEN") && hook.channel.rawValue.hasPrefix("webhook:"))
        #expect(OutboxChannel(rawValue: hook.channel.rawValue) == hook.channel)
        #expect(OutboxChannel(rawValue: "owner_email:bob") == .ownerEmail(accountID: "bob"))
        #expect(OutboxChannel(rawValue: "email") == .adminEmail)
        #expect(OutboxChannel(rawValue: "sms:+4912345") == .unrecognized("sms:+4912345"))
        #expect(!hook.label.contains("T0KEN"))
    }

    @Test("notices for channels no longer configured, or unknown to this version, are dropped; stale ones too")
    func orphans() async throws {
        let payload = try Notice.jsonEncoder.encode(notice("bob", .firing, .warning))
        func entry(_ id: Int64, _ channel: OutboxChannel, age: Double = 60) -> OutboxEntry {
            OutboxEntry(id: id, channel: channel, accountID: "bob", payload: payload, createdAt: now.addingTimeInterval(-age),
                        attempts: 0, lastError: nil)
        }
        let outbox = MemoryOutbox([entry(1, .webhook(key: "gone")), entry(2, .unrecognized("sms:+4912345")),
                                   entry(3, .ownerEmail(accountID: "bob")), entry(4, .adminEmail, age: 8 * 86400)])
        let results = await OutboxDelivery.deliver(outbox, plan: plan(email: false), now: now, logger: Logger(label: "test"))
        #expect(results.isEmpty)
        let contents = outbox.contents.withLock { $0 }
        #expect(contents.pending.isEmpty)
        #expect(Set(contents.delivered) == [1, 2, 3], "the 8-day-old notice is dropped as stale, not delivered")
    }

    @Test("a transport that cannot be built keeps the notices and counts one failure per channel")
    func transportFailure() async throws {
        let payload = try Notice.jsonEncoder.encode(notice("bob", .firing, .warning))
        let outbox = MemoryOutbox([
            OutboxEntry(id: 1, channel: .adminEmail, accountID: "bob", payload: payload, createdAt: now, attempts: 0, lastError: nil),
            OutboxEntry(id: 2, channel: .ownerEmail(accountID: "bob"), accountID: "bob", payload: payload, createdAt: now, attempts: 0, lastError: nil),
        ])
        let p = plan(owners: ["bob": .init(address: "bob@example.test", locale: "en")])
        let results = await OutboxDelivery.deliver(outbox, plan: p, now: now, logger: Logger(label: "test"))
        #expect(results.map(\.channel) == ["email", "owner_email bob"] && results.allSatisfy { !$0.ok })
        let contents = outbox.contents.withLock { $0 }
        #expect(contents.pending.count == 2 && contents.failures == ["email": 1, "owner_email": 1])
    }
}
