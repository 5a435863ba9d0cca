import Collector
public import Config
public import Foundation
public import Logging
public import MailGaugeCore
public import Presentation
import Store

extension NagiosCheck {
    static func input(_ o: AccountOutcome, at: Date) -> Input {
        let resources = o.snapshot?.quotaRoots.flatMap { root in root.resources.map { (resource: $0.resource, usage: $0.usage, limit: $0.limit) } } ?? []
        let quota = resources.map { QuotaPoint(at: at, root: "", resource: $0.resource, usage: $0.usage, limit: $0.limit, resolution: .raw) }
        // A live probe has no history: no forecast.
        return Input(accountID: o.accountID, probeOK: o.failure == nil, failure: o.failure?.message, seenAt: at, resources: resources,
                     observation: AlertRules.Observation(quota: quota, forecasts: [], consecutiveFailures: o.failure == nil ? 0 : 1,
                                                         probeOK: o.failure == nil),
                     unknownFigures: o.snapshot?.unknownFigures ?? [])
    }

    /// Reads the stored state (or probes afresh with `probe`) and evaluates it.
    public static func run(config: MailGaugeConfig, account: String?, probe: Bool, maxAgeSeconds: Double?, ranges: Ranges = Ranges(),
                           logger: Logger, now: Date = Date()) async -> Output {
        var ids = config.accounts.map(\.id)
        if let account {
            guard ids.contains(account) else { return Output(state: .unknown, text: "MAILGAUGE UNKNOWN - no account \"\(account)\" in \(config.path)") }
            ids = [account]
        }
        let thresholds = Alerting.thresholds(config)
        var inputs: [String: Input] = [:]
        if probe {
            let targets = Targets.make(config).filter { ids.contains($0.accountID) }
            for outcome in await RunAll.run(targets, options: Targets.options(config), logger: logger) { inputs[outcome.accountID] = input(outcome, at: now) }
        } else {
            guard FileManager.default.fileExists(atPath: config.database) else {
                return Output(state: .unknown, text: "MAILGAUGE UNKNOWN - no database at \(config.database) yet (run `mailgauge run` first, or use --probe)")
            }
            do {
                let database = try AppDatabase.openReadOnly(path: config.database)
                for s in try database.latestStates() { inputs[s.id] = input(s) }
            } catch {
                return Output(state: .unknown, text: "MAILGAUGE UNKNOWN - database \(config.database): \(error)")
            }
        }
        return evaluate(ids.map { ($0, inputs[$0]) }, thresholds: thresholds, ranges: ranges,
                        maxAgeSeconds: maxAgeSeconds ?? defaultMaxAge(config), now: now)
    }

    /// Stored data older than this is stale: three passes, at least an hour; adaptive
    /// polling leaves a quiet account (and a server it alone uses) unprobed for up to
    /// max_interval on top.
    static func defaultMaxAge(_ config: MailGaugeConfig) -> Double {
        let longestGap = config.schedule.policy == .adaptive ? config.schedule.maxIntervalSeconds : 0
        return max(longestGap + 3 * config.schedule.intervalSeconds, 3600)
    }
}
