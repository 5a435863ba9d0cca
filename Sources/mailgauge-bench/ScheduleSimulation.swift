import Foundation
import MailGaugeCore

/// `mailgauge-bench schedule [ACCOUNTS] [DAYS] [MAX_INTERVAL_HOURS] [RESERVE_PERCENT]`: replays synthetic mailbox growth for
/// ACCOUNTS accounts over DAYS days (after a 14-day warm-up that fills the history) and
/// compares the adaptive schedule with probing every account every 15-minute pass:
/// logins per day, and for every threshold crossing (warning 80 %, critical 95 %, full)
/// how many passes later the adaptive schedule noticed it than the fixed one did.
///
/// The growth models, per account (limits of 1, 2, 5 and 10 GiB, most far from full at start):
/// - steady (55 %): a daily rate drawn log-normally around 5 MiB/day, noisy per pass;
/// - bursty (25 %): mail in bursts (about 4 a day, 2 MiB on average, working hours) and a
///   large attachment batch (50–200 MiB) about every ten days;
/// - importing (5 %): steady, plus one import of 1 GiB at a random time;
/// - cleaning up (15 %): fast growth (about 30 MiB/day) and clean-ups that remove 20–50 %
///   about once a week.
/// Usage never exceeds the limit (the server refuses mail), and two days at or over 95 %
/// end in a clean-up of 30–60 % (bounces make people act). Seeded: the same figures every
/// run.
enum ScheduleSimulation {
    static let pass = 900.0
    static let warmupDays = 14

    enum Model: String, CaseIterable { case steady, bursty, importing, cleaning }

    struct Account {
        var model: Model
        var limit: Double  // MiB
        var usage: Double
        var dailyRate: Double
        var importAt: Int?  // step
        var criticalSince: Int?  // step
        // Adaptive state: hourly maxima of what its probes saw, and its due time.
        var hours: [(hour: Double, usage: Double)] = []
        var dueAt: Double? = nil
        var forecast: (hour: Double, fullAt: Double?)? = nil
    }

    struct Crossing {
        var account: Int
        var level: Double
        var step: Int
        var model: Model
        var fixedStep: Int?
        var adaptiveStep: Int?
    }

    static func run(accounts count: Int, days: Int, options: ProbeSchedule.Options = .init()) {
        var rng = SplitMix64(seed: 20261202)
        let totalDays = warmupDays + days
        let steps = totalDays * 96
        let countFrom = warmupDays * 96
        let thresholds = AlertRules.Thresholds()
        let levels = [thresholds.warning, thresholds.critical, 1.0]
        let limits: [Double] = [1024, 2048, 5120, 10240]
        var accounts: [Account] = (0..<count).map { _ in
            let r = Double.random(in: 0..<1, using: &rng)
            let model: Model = r < 0.55 ? .steady : r < 0.80 ? .bursty : r < 0.85 ? .importing : .cleaning
            let limit = limits[Int.random(in: 0..<limits.count, using: &rng)]
            let rate = model == .cleaning ? 30 * lognormal(&rng, sigma: 0.5) : 5 * lognormal(&rng, sigma: 1)
            // Most mailboxes are far from full, a few close: usage = 90 % × u² of the limit
            // (u uniform; median 22 %, about 6 % start above 80 %).
            let u = Double.random(in: 0..<1, using: &rng)
            return Account(model: model, limit: limit, usage: limit * 0.9 * u * u,
                           dailyRate: rate, importAt: model == .importing ? Int.random(in: 0..<steps, using: &rng) : nil)
        }
        var crossings: [Crossing] = []
        var open: [Int: [Int]] = [:]  // account -> indices of crossings not yet noticed by adaptive
        var adaptiveLogins = 0, fixedLogins = 0
        let started = Date()
        for step in 0..<steps {
            let now = Double(step) * pass
            let hourOfDay = (step / 4) % 24
            for i in accounts.indices {
                let before = accounts[i].usage
                advance(&accounts[i], step: step, hourOfDay: hourOfDay, rng: &rng)
                let a = accounts[i]
                if step >= countFrom {
                    for level in levels where before < level * a.limit && a.usage >= level * a.limit {
                        open[i, default: []].append(crossings.count)
                        // The fixed schedule probes every pass: it sees the crossing now.
                        crossings.append(Crossing(account: i, level: level, step: step, model: a.model, fixedStep: step))
                    }
                }
                if step >= countFrom { fixedLogins += 1 }
                guard ProbeSchedule.isDue(accounts[i].dueAt, now: now, options: options) else { continue }
                if step >= countFrom { adaptiveLogins += 1 }
                probe(&accounts[i], now: now, thresholds: thresholds, options: options)
                if let pending = open[i] {
                    let still = pending.filter { c in
                        guard accounts[i].usage >= crossings[c].level * accounts[i].limit else { return true }
                        crossings[c].adaptiveStep = step
                        return false
                    }
                    open[i] = still.isEmpty ? nil : still
                }
            }
        }
        let simulated = Date().timeIntervalSince(started)
        let fixedPerDay = Double(fixedLogins) / Double(days), adaptivePerDay = Double(adaptiveLogins) / Double(days)
        print("benchmark schedule: \(count) accounts, \(days) days after a \(warmupDays)-day warm-up, 15-minute passes, "
              + "max_interval \(Int(options.maxIntervalSeconds / 3600))h, reserve \(Int(options.reserveFraction * 100))% "
              + "(simulated in \(String(format: "%.1f", simulated)) s)")
        print(String(format: "logins per day: fixed %.0f, adaptive %.0f: %.1fx fewer", fixedPerDay, adaptivePerDay,
                     fixedPerDay / max(adaptivePerDay, 1)))
        func describe(_ subset: [Crossing], _ label: String) {
            // Crossings the fixed schedule saw but usage fell back below before the adaptive
            // schedule looked (a clean-up right after): missed, and counted apart.
            let noticed = subset.filter { $0.adaptiveStep != nil }
            let delays = noticed.map { $0.adaptiveStep! - $0.fixedStep! }.sorted()
            let missed = subset.count - noticed.count
            let late = delays.filter { $0 > 1 }.count
            let worst = delays.last ?? 0
            let p99 = delays.isEmpty ? 0 : delays[min(delays.count - 1, Int(Double(delays.count) * 0.99))]
            print("  \(label.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(format: "%6d", subset.count)) crossings, "
                  + "delay in passes: same pass \(delays.filter { $0 == 0 }.count), 1 pass \(delays.filter { $0 == 1 }.count), "
                  + "more \(late) (p99 \(p99), worst \(worst) = \(String(format: "%.1f", Double(worst) * pass / 3600)) h), "
                  + "never seen \(missed)")
        }
        print("threshold crossings noticed by the adaptive schedule, against the fixed one:")
        describe(crossings, "all")
        for model in Model.allCases { describe(crossings.filter { $0.model == model }, "model \(model.rawValue)") }
        for (level, name) in zip(levels, ["warning", "critical", "full"]) {
            describe(crossings.filter { $0.level == level }, "level \(name)")
        }
    }

    /// One pass of growth.
    static func advance(_ a: inout Account, step: Int, hourOfDay: Int, rng: inout SplitMix64) {
        var delta = 0.0
        switch a.model {
        case .steady, .importing:
            delta = a.dailyRate / 96 * Double.random(in: 0...2, using: &rng)
            if step == a.importAt { delta += 1024 }
        case .bursty:
            let working = (8..<18).contains(hourOfDay)
            if working, Double.random(in: 0..<1, using: &rng) < 4.0 / 40 {
                delta = -2 * log(1 - Double.random(in: 0..<1, using: &rng))
            }
            if Double.random(in: 0..<1, using: &rng) < 1.0 / (10 * 96) {
                delta += Double.random(in: 50...200, using: &rng)
            }
        case .cleaning:
            delta = a.dailyRate / 96 * Double.random(in: 0...2, using: &rng)
            if Double.random(in: 0..<1, using: &rng) < 1.0 / (7 * 96) {
                delta -= a.usage * Double.random(in: 0.2...0.5, using: &rng)
            }
        }
        a.usage = min(a.limit, max(0, a.usage + delta))
        // Bounced mail makes people act: two days at or over 95 %, and the owner (or an
        // admin) clears 30–60 % of the mailbox.
        if a.usage >= 0.95 * a.limit {
            if let since = a.criticalSince, step - since > 2 * 96 {
                a.usage *= 1 - Double.random(in: 0.3...0.6, using: &rng)
                a.criticalSince = nil
            } else if a.criticalSince == nil {
                a.criticalSince = step
            }
        } else {
            a.criticalSince = nil
        }
    }

    /// What a probe and the store do: record the hour's maximum, then decide the due time.
    static func probe(_ a: inout Account, now: Double, thresholds: AlertRules.Thresholds, options: ProbeSchedule.Options) {
        let hour = (now / 3600).rounded(.down) * 3600
        if let last = a.hours.last, last.hour == hour {
            a.hours[a.hours.count - 1].usage = max(last.usage, a.usage)
        } else {
            a.hours.append((hour, a.usage))
        }
        let windowStart = now - 14 * 86400
        if let first = a.hours.firstIndex(where: { $0.hour >= windowStart }), first > 0 { a.hours.removeFirst(first) }
        let points = a.hours.map { Forecast.Point(time: $0.hour, usage: $0.usage, limit: a.limit) }
        let growth = ProbeSchedule.Growth(points.map { Forecast.Point(time: $0.time, usage: $0.usage * 1024, limit: $0.limit * 1024) })
        var outlook = ProbeSchedule.Outlook(resource: QuotaResourceName.storage, usage: a.usage * 1024, limit: a.limit * 1024,
                                            growth: growth)
        var decision = ProbeSchedule.afterSuccess(probedAt: now, outlooks: [outlook], thresholds: thresholds, options: options)
        // The forecast matters only when the account would otherwise wait; it is O(n²), so
        // the simulation computes it only then (and once per simulated hour, when the hourly
        // history changes). The product computes it every probe for the alerts anyway.
        if decision.reason == .headroom {
            var fullAt: Double?
            if let cached = a.forecast, cached.hour == hour {
                fullAt = cached.fullAt
            } else {
                if case .fullAt(let time, _) = Forecast.timeToFull(points, now: now) { fullAt = time }
                a.forecast = (hour, fullAt)
            }
            outlook.forecastFullAt = fullAt
            decision = ProbeSchedule.afterSuccess(probedAt: now, outlooks: [outlook], thresholds: thresholds, options: options)
        }
        a.dueAt = decision.dueAt
    }

    static func lognormal(_ rng: inout SplitMix64, sigma: Double) -> Double {
        // Box–Muller.
        let u1 = max(Double.random(in: 0..<1, using: &rng), 1e-12), u2 = Double.random(in: 0..<1, using: &rng)
        return exp(sigma * sqrt(-2 * log(u1)) * cos(2 * .pi * u2))
    }
}

/// A small seeded generator: the simulation gives the same figures every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
