import MailGaugeCore
import Testing

@Suite("adaptive polling: when each account is due")
struct ProbeScheduleTests {
    static let now = 1_800_000_000.0
    static let hour = 3600.0
    static let gib = 1_048_576.0  // STORAGE is in KiB
    static let options = ProbeSchedule.Options()
    static let thresholds = AlertRules.Thresholds()

    static func decide(usage: Double, limit: Double = gib, growth: ProbeSchedule.Growth = .init(), fullAt: Double? = nil,
                       resource: String = QuotaResourceName.storage, thresholds: AlertRules.Thresholds = thresholds,
                       options: ProbeSchedule.Options = options) -> ProbeSchedule.Decision {
        ProbeSchedule.afterSuccess(
            probedAt: now,
            outlooks: [ProbeSchedule.Outlook(resource: resource, usage: usage, limit: limit, growth: growth, forecastFullAt: fullAt)],
            thresholds: thresholds, options: options)
    }

    @Test("a quiet mailbox far from its threshold waits max_interval")
    func quiet() {
        let d = Self.decide(usage: 0.2 * Self.gib)
        #expect(d == .init(dueAt: Self.now + 86400, reason: .headroom))
    }

    @Test("headroom over the fastest growth, times the safety factor")
    func growing() {
        // 50 % of 1 GiB; first level 80 %, reserve 5 %: 25 % = 262,144 KiB of headroom; at
        // 10 MiB (10,240 KiB) an hour that is 25.6 h, halved: 12.8 h.
        let d = Self.decide(usage: 0.5 * Self.gib, growth: .init(fastestPerSecond: 10240 / Self.hour, largestRise: 10240))
        #expect(d.reason == .headroom)
        #expect(abs(d.dueAt - (Self.now + 12.8 * Self.hour)) < 1)
    }

    @Test("growth faster than the headroom allows: every pass, never sooner")
    func clampedToThePass() {
        let d = Self.decide(usage: 0.5 * Self.gib, growth: .init(fastestPerSecond: Self.gib / Self.hour))
        #expect(d == .init(dueAt: Self.now + 900, reason: .headroom))
    }

    @Test("at or over a threshold, or forecast to fill within the horizon: every pass")
    func overThreshold() {
        #expect(Self.decide(usage: 0.8 * Self.gib) == .init(dueAt: Self.now + 900, reason: .overThreshold))
        #expect(Self.decide(usage: Self.gib) == .init(dueAt: Self.now + 900, reason: .overThreshold))
        #expect(Self.decide(usage: 0.3 * Self.gib, fullAt: Self.now + 6 * 86400).reason == .overThreshold)
        #expect(Self.decide(usage: 0.3 * Self.gib, fullAt: Self.now + 30 * 86400).reason == .headroom)
        // min_free (bytes) is a threshold too: 100 MiB free of 1 GiB at 70 % used is fine,
        // 400 MiB is not.
        var t = Self.thresholds
        t.minFreeBytes = 400 * 1_048_576
        #expect(Self.decide(usage: 0.7 * Self.gib, thresholds: t).reason == .overThreshold)
        // MESSAGE counts are not bytes: min_free does not apply.
        #expect(Self.decide(usage: 100, limit: 1000, resource: QuotaResourceName.message, thresholds: t).reason == .headroom)
    }

    @Test("within the reserve of a threshold, or of twice the largest jump seen: every pass")
    func nearThreshold() {
        #expect(Self.decide(usage: 0.76 * Self.gib) == .init(dueAt: Self.now + 900, reason: .nearThreshold))
        // 60 %: 20 % headroom; a 150 MiB jump seen (twice: 29 %) eats it.
        let jumpy = ProbeSchedule.Growth(fastestPerSecond: 150 * 1024 / Self.hour, largestRise: 150 * 1024)
        #expect(Self.decide(usage: 0.6 * Self.gib, growth: jumpy).reason == .nearThreshold)
        var wide = Self.options
        wide.reserveFraction = 0.25
        #expect(Self.decide(usage: 0.6 * Self.gib, options: wide).reason == .nearThreshold)
    }

    @Test("the nearest resource decides; no limit at all waits max_interval")
    func resources() {
        let outlooks = [
            ProbeSchedule.Outlook(resource: QuotaResourceName.storage, usage: 0.1 * Self.gib, limit: Self.gib, growth: .init()),
            ProbeSchedule.Outlook(resource: QuotaResourceName.message, usage: 850, limit: 1000, growth: .init()),
        ]
        let d = ProbeSchedule.afterSuccess(probedAt: Self.now, outlooks: outlooks, thresholds: Self.thresholds, options: Self.options)
        #expect(d.reason == .overThreshold)
        let unlimited = ProbeSchedule.afterSuccess(
            probedAt: Self.now, outlooks: [.init(resource: QuotaResourceName.storage, usage: 5, limit: 0, growth: .init())],
            thresholds: Self.thresholds, options: Self.options)
        #expect(unlimited == .init(dueAt: Self.now + 86400, reason: .unlimited))
    }

    @Test("quota read in bulk: at or near a threshold, a folder probe every second pass (or each reading when rarer)")
    func spacedByBulkReadings() {
        func spaced(_ d: ProbeSchedule.Decision, every: Double?) -> ProbeSchedule.Decision {
            ProbeSchedule.spaced(d, probedAt: Self.now, quotaReadEvery: every, options: Self.options)
        }
        let over = Self.decide(usage: 0.9 * Self.gib), near = Self.decide(usage: 0.76 * Self.gib)
        // Read every pass (Cyrus, doveadm's default): folders every second pass.
        #expect(spaced(over, every: 900) == .init(dueAt: Self.now + 1800, reason: .overThreshold))
        #expect(spaced(near, every: 900) == .init(dueAt: Self.now + 1800, reason: .nearThreshold))
        // Read hourly: folders with each reading.
        #expect(spaced(over, every: 3600) == .init(dueAt: Self.now + 3600, reason: .overThreshold))
        // Not read in bulk: every pass, as before.
        #expect(spaced(over, every: nil) == over && spaced(near, every: nil) == near)
        // Headroom, failures and the rest keep their own time.
        let quiet = Self.decide(usage: 0.2 * Self.gib)
        #expect(spaced(quiet, every: 900) == quiet)
        let failing = ProbeSchedule.afterFailure(probedAt: Self.now, options: Self.options)
        #expect(spaced(failing, every: 900) == failing)
    }

    @Test("a bulk reading at or near a threshold probes now only an account its schedule thought quiet")
    func probeNowAfterBulkReading() {
        func now(_ dueAt: Double?, every: Double? = 900) -> Bool {
            ProbeSchedule.probeNowAfterBulkReading(storedDueAt: dueAt, now: Self.now, quotaReadEvery: every, options: Self.options)
        }
        #expect(now(nil))                          // never probed
        #expect(now(Self.now + 6 * Self.hour))     // quiet, and it jumped
        #expect(!now(Self.now + 1800))             // already at risk: its spaced probe comes
        #expect(!now(Self.now + 900))
        #expect(now(Self.now + 1800, every: nil))  // not read in bulk: as before
    }

    @Test("fixed policy and failures: every pass")
    func everyPass() {
        var fixed = Self.options
        fixed.policy = .fixed
        #expect(Self.decide(usage: 0.1 * Self.gib, options: fixed) == .init(dueAt: Self.now + 900, reason: .everyPass))
        #expect(ProbeSchedule.afterFailure(probedAt: Self.now, options: Self.options) == .init(dueAt: Self.now + 900, reason: .failing))
    }

    @Test("due: never scheduled, or within half a pass; fixed: always")
    func isDue() {
        let o = Self.options
        #expect(ProbeSchedule.isDue(nil, now: Self.now, options: o))
        #expect(ProbeSchedule.isDue(Self.now + 449, now: Self.now, options: o))
        #expect(!ProbeSchedule.isDue(Self.now + 451, now: Self.now, options: o))
        var fixed = o
        fixed.policy = .fixed
        #expect(ProbeSchedule.isDue(Self.now + 86400, now: Self.now, options: fixed))
        // A probe that started a few seconds into its pass is due in the next one.
        let d = ProbeSchedule.afterFailure(probedAt: Self.now + 5, options: o)
        #expect(ProbeSchedule.isDue(d.dueAt, now: Self.now + 900, options: o))
    }

    @Test("growth from a history: the fastest step and the largest rise, falls ignored")
    func growth() {
        let points = [(0.0, 100.0), (3600, 110), (7200, 50), (10800, 250), (18000, 260)].map {
            Forecast.Point(time: $0.0, usage: $0.1, limit: 1000)
        }
        let g = ProbeSchedule.Growth(points)
        #expect(g.largestRise == 200)
        #expect(abs(g.fastestPerSecond - 200 / 3600) < 1e-12)
        #expect(ProbeSchedule.Growth([]) == ProbeSchedule.Growth())
    }
}
