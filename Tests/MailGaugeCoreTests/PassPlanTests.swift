@testable import MailGaugeCore
import Testing

/// Every rule of when an account is probed, on plain values (`PassPlan`): what a pass
/// probes, what it stores quota-only, when a bulk source is read, and the due time after.
@Suite("pass plan")
struct PassPlanTests {
    static let pass = 900.0
    static let options = ProbeSchedule.Options(passIntervalSeconds: pass, maxIntervalSeconds: 86400)
    static let now = 1_800_000_000.0
    static let thresholds = AlertRules.Thresholds()

    static func account(_ id: String, readEvery: Double? = nil) -> PassPlan.Account {
        PassPlan.Account(id: id, thresholds: thresholds, quotaReadEvery: readEvery)
    }

    static func reading(usedKiB: UInt64, limitKiB: UInt64 = 1_000_000) -> BulkQuotaReading {
        .quota(.ok, [QuotaRootUsage(name: "User quota", resources: [ResourceUsage(resource: "STORAGE", usage: usedKiB, limit: limitKiB)])])
    }

    @Test("due: never scheduled, due within half a pass, everything with --all or policy fixed; not a later one")
    func due() {
        let times = ["soon": Self.now + Self.pass / 2, "later": Self.now + Self.pass, "past": Self.now - 1]
        let ids = ["new", "soon", "later", "past"]
        #expect(PassPlan.due(ids, dueTimes: times, now: Self.now, options: Self.options, all: false) == ["new", "soon", "past"])
        #expect(PassPlan.due(ids, dueTimes: times, now: Self.now, options: Self.options, all: true) == Set(ids))
        var fixed = Self.options
        fixed.policy = .fixed
        #expect(PassPlan.due(ids, dueTimes: times, now: Self.now, options: fixed, all: false) == Set(ids))
    }

    @Test("a bulk source is read when never read, or its interval (less half a pass of jitter) has passed")
    func bulkReadingDue() {
        #expect(PassPlan.bulkReadingDue(lastRead: nil, interval: 3600, now: Self.now, options: Self.options))
        #expect(PassPlan.bulkReadingDue(lastRead: Self.now - 3600 + 450, interval: 3600, now: Self.now, options: Self.options))
        #expect(!PassPlan.bulkReadingDue(lastRead: Self.now - 3600 + 451, interval: 3600, now: Self.now, options: Self.options))
    }

    @Test("select: due accounts probed; a reading at risk probes a quiet account now, not one already spaced; the rest quota-only; refused, nothing")
    func select() {
        let every = Self.pass
        let accounts = ["due", "jumped", "spaced", "quiet", "refused", "unread"].map { Self.account($0, readEvery: every) }
        let dueTimes = ["jumped": Self.now + 86400, "spaced": Self.now + 2 * Self.pass, "quiet": Self.now + 86400,
                        "refused": Self.now + 86400, "unread": Self.now + 86400]
        let readings: [String: BulkQuotaReading] = [
            "due": Self.reading(usedKiB: 10), "jumped": Self.reading(usedKiB: 900_000), "spaced": Self.reading(usedKiB: 900_000),
            "quiet": Self.reading(usedKiB: 10), "refused": .refused("Quota root does not exist"),
        ]
        let due = PassPlan.due(accounts.map(\.id), dueTimes: dueTimes, now: Self.now, options: Self.options, all: false)
        #expect(due == ["due"])
        let plan = PassPlan.select(accounts, due: due, dueTimes: dueTimes, readings: readings, now: Self.now, options: Self.options)
        #expect(plan.probe == ["due", "jumped"])
        #expect(plan.quotaOnly == ["quiet", "spaced"])
    }

    @Test("after a pass: a failure and a probe set the due time; a quota-only reading only brings it forward")
    func dueUpdates() {
        let a = Self.account("a")
        let failed = PassPlan.dueUpdate(.failed, at: Self.now, storedDueAt: nil, account: a, options: Self.options)
        #expect(failed == .set(.init(dueAt: Self.now + Self.pass, reason: .failing)))
        let quiet = [ProbeSchedule.Outlook(resource: "STORAGE", usage: 10, limit: 1_000_000, growth: .init())]
        guard case .set(let probed) = PassPlan.dueUpdate(.probed(quiet), at: Self.now, storedDueAt: Self.now, account: a, options: Self.options) else {
            Issue.record("a probe sets its due time")
            return
        }
        #expect(probed.reason == .headroom && probed.dueAt == Self.now + 86400, "a probe sets it, later than the stored one too")
        let atRisk = [ProbeSchedule.Outlook(resource: "STORAGE", usage: 900_000, limit: 1_000_000, growth: .init())]
        #expect(PassPlan.dueUpdate(.quotaOnly(quiet), at: Self.now, storedDueAt: Self.now + 3600, account: a, options: Self.options) == .keep,
                "a quota-only reading never pushes a due time back")
        #expect(PassPlan.dueUpdate(.quotaOnly(atRisk), at: Self.now, storedDueAt: Self.now + 86400, account: a, options: Self.options)
                == .set(.init(dueAt: Self.now + Self.pass, reason: .overThreshold)))
        #expect(PassPlan.dueUpdate(.quotaOnly(quiet), at: Self.now, storedDueAt: nil, account: a, options: Self.options)
                == .set(.init(dueAt: Self.now + 86400, reason: .headroom)))
        // Read in bulk every pass: at risk, its folder probe comes every second pass.
        let bulk = Self.account("b", readEvery: Self.pass)
        #expect(PassPlan.dueUpdate(.probed(atRisk), at: Self.now, storedDueAt: nil, account: bulk, options: Self.options)
                == .set(.init(dueAt: Self.now + 2 * Self.pass, reason: .overThreshold)))
    }
}
