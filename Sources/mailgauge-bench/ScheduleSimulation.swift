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
        /// What each variant's schedule knows of it (see `Variant`).
        var watches: [Watch] = []
    }

    /// One schedule's state for an account: hourly maxima of what its readings saw, and
    /// its due time.
    struct Watch {
        var hours: [(hour: Double, usage: Double)] = []
        var dueAt: Double? = nil
        var forecast: (hour: Double, fullAt: Double?)? = nil
        /// The growth its last probe computed, kept up to date by quota-only readings.
        var growth = ProbeSchedule.Growth()
    }

    /// The schedules compared with the fixed one: adaptive alone, and adaptive with every
    /// quota read in bulk every `bulkEvery` passes (`dovecot_doveadm`, `cyrus_admin`): a
    /// bulk reading shows every account's usage, puts one at or near a threshold up for a
    /// probe now, and may bring a quiet one's probe forward, never back.
    struct Variant {
        var name: String
        var bulkEvery: Int?
        var logins = 0
        var bulkReadings = 0
    }

    struct Crossing {
        var account: Int
        var level: Double
        var step: Int
        var model: Model
        var fixedStep: Int?
        /// The step each variant first saw it (nil: not yet, or never).
        var noticed: [Int?]
    }

    /// `loginCost`, `bulkCost`: Dovecot CPU seconds of one login with its folder probe and
    /// of one account's quota in a doveadm reading (`scripts/bench/benchmark doveadm` measures both).
    static func run(accounts count: Int, days: Int, options: ProbeSchedule.Options = .init(),
                    loginCost: Double = 0.0026, bulkCost: Double = 0.0007) {
        var variants = [Variant(name: "adaptive", bulkEvery: nil), Variant(name: "adaptive + bulk every pass", bulkEvery: 1),
                        Variant(name: "adaptive + bulk every 2nd pass", bulkEvery: 2)]
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
                           dailyRate: rate, importAt: model == .importing ? Int.random(in: 0..<steps, using: &rng) : nil,
                           watches: Array(repeating: Watch(), count: variants.count))
        }
        var crossings: [Crossing] = []
        var open: [Int: [Int]] = [:]  // account -> indices of crossings some variant has not noticed yet
        var fixedLogins = 0
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
                        crossings.append(Crossing(account: i, level: level, step: step, model: a.model, fixedStep: step,
                                                  noticed: Array(repeating: nil, count: variants.count)))
                    }
                }
                if step >= countFrom { fixedLogins += 1 }
                for v in variants.indices {
                    let bulkPass = variants[v].bulkEvery.map { step % $0 == 0 } ?? false
                    var looked = false
                    let readEvery = variants[v].bulkEvery.map { Double($0) * pass }
                    // allUsers reads every account, probed this pass or not.
                    if bulkPass, step >= countFrom { variants[v].bulkReadings += 1 }
                    // The same plan as a pass (PassPlan), one account at a time.
                    let planned = PassPlan.Account(id: "", thresholds: thresholds, quotaReadEvery: readEvery)
                    if PassPlan.isDue(accounts[i].watches[v].dueAt, now: now, options: options) {
                        probe(&accounts[i], watch: v, now: now, account: planned, options: options)
                        looked = true
                        if step >= countFrom { variants[v].logins += 1 }
                    } else if bulkPass {
                        looked = true
                        let reading = ProbeSchedule.Outlook(resource: QuotaResourceName.storage, usage: a.usage * 1024,
                                                            limit: a.limit * 1024, growth: .init())
                        if PassPlan.probesNow(planned, dueAt: accounts[i].watches[v].dueAt, reading: [reading], now: now, options: options) {
                            probe(&accounts[i], watch: v, now: now, account: planned, options: options)
                            if step >= countFrom { variants[v].logins += 1 }
                        } else {
                            quotaReading(&accounts[i].watches[v], usage: a.usage, limit: a.limit, now: now, account: planned, options: options)
                        }
                    }
                    guard looked, let pending = open[i] else { continue }
                    for c in pending where crossings[c].noticed[v] == nil && accounts[i].usage >= crossings[c].level * accounts[i].limit {
                        crossings[c].noticed[v] = step
                    }
                }
                if let pending = open[i] {
                    let still = pending.filter { c in crossings[c].noticed.contains { $0 == nil } && accounts[i].usage >= crossings[c].level * accounts[i].limit }
                    open[i] = still.isEmpty ? nil : still
                }
            }
        }
        let simulated = Date().timeIntervalSince(started)
        let fixedPerDay = Double(fixedLogins) / Double(days)
        print("benchmark schedule: \(count) accounts, \(days) days after a \(warmupDays)-day warm-up, 15-minute passes, "
              + "max_interval \(Int(options.maxIntervalSeconds / 3600))h, reserve \(Int(options.reserveFraction * 100))% "
              + "(simulated in \(String(format: "%.1f", simulated)) s)")
        print(String(format: "Dovecot CPU per login with its folder probe %.1f ms, per account in a doveadm bulk reading %.1f ms",
                     loginCost * 1000, bulkCost * 1000))
        print(String(format: "fixed: %.0f logins per day, Dovecot CPU %.0f s per day", fixedPerDay, fixedPerDay * loginCost))
        for variant in variants {
            let logins = Double(variant.logins) / Double(days), bulk = Double(variant.bulkReadings) / Double(days)
            let cpu = logins * loginCost + bulk * bulkCost
            print(String(format: "%@: %.0f logins per day (%.1fx fewer), %.0f quota readings in bulk; Dovecot CPU %.0f s per day (%.1fx less)",
                         variant.name, logins, fixedPerDay / max(logins, 1), bulk, cpu, fixedPerDay * loginCost / max(cpu, 1e-9)))
        }
        func describe(_ subset: [Crossing], _ label: String, variant v: Int) {
            // Crossings the fixed schedule saw but usage fell back below before this
            // schedule looked (a clean-up right after): missed, and counted apart.
            let noticed = subset.filter { $0.noticed[v] != nil }
            let delays = noticed.map { $0.noticed[v]! - $0.fixedStep! }.sorted()
            let missed = subset.count - noticed.count
            let late = delays.filter { $0 > 1 }.count
            let worst = delays.last ?? 0
            let p99 = delays.isEmpty ? 0 : delays[min(delays.count - 1, Int(Double(delays.count) * 0.99))]
            print("  \(label.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(format: "%6d", subset.count)) crossings, "
                  + "delay in passes: same pass \(delays.filter { $0 == 0 }.count), 1 pass \(delays.filter { $0 == 1 }.count), "
                  + "more \(late) (p99 \(p99), worst \(worst) = \(String(format: "%.1f", Double(worst) * pass / 3600)) h), "
                  + "never seen \(missed)")
        }
        for (v, variant) in variants.enumerated() {
            print("threshold crossings noticed by \(variant.name), against the fixed schedule:")
            describe(crossings, "all", variant: v)
            for model in Model.allCases { describe(crossings.filter { $0.model == model }, "model \(model.rawValue)", variant: v) }
            for (level, name) in zip(levels, ["warning", "critical", "full"]) {
                describe(crossings.filter { $0.level == level }, "level \(name)", variant: v)
            }
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

    /// A quota-only bulk reading: the hour's maximum recorded, the growth updated from the
    /// last two hours, the last forecast kept; the due time only brought forward, as the
    /// store does. (The store also recomputes the forecast when the series moves; the
    /// simulation keeps the last probe's, which only makes it later to bring a probe forward.)
    static func quotaReading(_ a: inout Watch, usage: Double, limit: Double, now: Double, account: PassPlan.Account,
                             options: ProbeSchedule.Options) {
        record(&a, usage: usage, now: now)
        if a.hours.count >= 2 {
            let x = a.hours[a.hours.count - 2], y = a.hours[a.hours.count - 1]
            let step = ProbeSchedule.Growth([Forecast.Point(time: x.hour, usage: x.usage * 1024, limit: limit * 1024),
                                             Forecast.Point(time: y.hour, usage: y.usage * 1024, limit: limit * 1024)])
            a.growth = ProbeSchedule.Growth(fastestPerSecond: max(a.growth.fastestPerSecond, step.fastestPerSecond),
                                            largestRise: max(a.growth.largestRise, step.largestRise))
        }
        var outlook = ProbeSchedule.Outlook(resource: QuotaResourceName.storage, usage: usage * 1024, limit: limit * 1024, growth: a.growth)
        outlook.forecastFullAt = a.forecast?.fullAt
        if case .set(let decision) = PassPlan.dueUpdate(.quotaOnly([outlook]), at: now, storedDueAt: a.dueAt, account: account, options: options) {
            a.dueAt = decision.dueAt
        }
    }

    /// The hour's maximum, and the 14-day window.
    static func record(_ a: inout Watch, usage: Double, now: Double) {
        let hour = (now / 3600).rounded(.down) * 3600
        if let last = a.hours.last, last.hour == hour {
            a.hours[a.hours.count - 1].usage = max(last.usage, usage)
        } else {
            a.hours.append((hour, usage))
        }
        let windowStart = now - 14 * 86400
        if let first = a.hours.firstIndex(where: { $0.hour >= windowStart }), first > 0 { a.hours.removeFirst(first) }
    }

    /// What a probe and the store do: record the hour's maximum, then decide the due time.
    static func probe(_ account: inout Account, watch v: Int, now: Double, account planned: PassPlan.Account,
                      options: ProbeSchedule.Options) {
        let usage = account.usage, limit = account.limit
        var a = account.watches[v]
        defer { account.watches[v] = a }
        let hour = (now / 3600).rounded(.down) * 3600
        record(&a, usage: usage, now: now)
        let points = a.hours.map { Forecast.Point(time: $0.hour, usage: $0.usage, limit: limit) }
        let growth = ProbeSchedule.Growth(points.map { Forecast.Point(time: $0.time, usage: $0.usage * 1024, limit: $0.limit * 1024) })
        a.growth = growth
        var outlook = ProbeSchedule.Outlook(resource: QuotaResourceName.storage, usage: usage * 1024, limit: limit * 1024,
                                            growth: growth)
        // What PassPlan.dueUpdate sets after a probe.
        func decide() -> ProbeSchedule.Decision { PassPlan.afterReading([outlook], at: now, account: planned, options: options) }
        var decision = decide()
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
            decision = decide()
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
