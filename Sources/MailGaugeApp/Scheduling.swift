import Collector
public import Config
import Foundation
public import MailGaugeCore

/// The config's `schedule:` as the collector's and store's adaptive-polling settings.
public enum Scheduling {
    public static func options(_ config: MailGaugeConfig) -> ProbeSchedule.Options {
        ProbeSchedule.Options(policy: config.schedule.policy.policy,
                              passIntervalSeconds: config.schedule.intervalSeconds,
                              maxIntervalSeconds: config.schedule.maxIntervalSeconds,
                              reserveFraction: config.schedule.reserve)
    }

    static func settings(_ config: MailGaugeConfig) -> ProbeSchedule.Settings {
        let readEvery = quotaReadEvery(config)
        return ProbeSchedule.Settings(options: options(config), thresholds: Alerting.thresholds(config),
                                      quotaReadEvery: { readEvery[$0] })
    }

    /// How often each bulk-read account's quota is read: Cyrus's every pass, the doveadm
    /// API's every `interval`.
    static func quotaReadEvery(_ config: MailGaugeConfig) -> [String: Double] {
        Dictionary(config.accounts.compactMap { a -> (String, Double)? in
            switch a.masterMode {
            case .cyrusAdmin: (a.id, config.schedule.intervalSeconds)
            case .dovecotDoveadm: a.doveadm.map { (a.id, doveadmInterval($0, config)) }
            default: nil
            }
        }, uniquingKeysWith: { a, _ in a })
    }

    /// How often a doveadm API is read: its `interval`, else every pass.
    static func doveadmInterval(_ api: DoveadmAPI, _ config: MailGaugeConfig) -> Double {
        api.intervalSeconds ?? config.schedule.intervalSeconds
    }

    /// The config's accounts as the pass plan sees them.
    static func planAccounts(_ config: MailGaugeConfig) -> [PassPlan.Account] {
        let thresholds = Alerting.thresholds(config)
        let readEvery = quotaReadEvery(config)
        return config.accounts.map { PassPlan.Account(id: $0.id, thresholds: thresholds($0.id), quotaReadEvery: readEvery[$0.id]) }
    }

    /// The accounts due by their stored schedule (`PassPlan.due`).
    static func due(_ config: MailGaugeConfig, dueTimes: [String: Double], now: Double, all: Bool) -> Set<String> {
        PassPlan.due(config.accounts.lazy.map(\.id), dueTimes: dueTimes, now: now, options: options(config), all: all)
    }

    /// `PassPlan.select`, and the quota-only outcomes it asks for, from the bulk readings.
    struct Selection {
        var probe: Set<String>
        var quotaOnly: [AccountOutcome]
    }

    static func select(_ config: MailGaugeConfig, due: Set<String>, dueTimes: [String: Double], bulk: BulkQuotaPass.Result,
                       now: Date) -> Selection {
        let plan = PassPlan.select(planAccounts(config), due: due, dueTimes: dueTimes, readings: bulk.readings,
                                   now: now.timeIntervalSince1970, options: options(config))
        let accounts = Dictionary(config.accounts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let share = bulk.seconds / Double(max(1, bulk.readings.count))
        let quotaOnly = plan.quotaOnly.compactMap { id -> AccountOutcome? in
            guard case .quota(let status, let roots)? = bulk.readings[id], let account = accounts[id] else { return nil }
            return AccountOutcome(accountID: id, user: account.user, server: account.server, at: bulk.at,
                                  durationSeconds: share, result: .success(.quotaOnly(roots, status: status, durationSeconds: share)))
        }
        return Selection(probe: plan.probe, quotaOnly: quotaOnly)
    }
}
