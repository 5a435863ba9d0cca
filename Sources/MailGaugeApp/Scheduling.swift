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

    /// The accounts due by their stored schedule at `now`: all with `--all` or `policy:
    /// fixed`; an account the store has never scheduled (new, or never probed) is due.
    static func due(_ config: MailGaugeConfig, dueTimes: [String: Double], now: Double, all: Bool) -> Set<String> {
        let options = options(config)
        return Set(config.accounts.lazy.filter { all || ProbeSchedule.isDue(dueTimes[$0.id], now: now, options: options) }.map(\.id))
    }

    /// What a pass does with each account: probe it (due by its schedule, or put at or near
    /// a threshold by a fresh bulk reading), or store the quota the bulk reading gave.
    struct Selection {
        var probe: Set<String>
        var quotaOnly: [AccountOutcome]
    }

    static func select(_ config: MailGaugeConfig, due: Set<String>, dueTimes: [String: Double], bulk: BulkQuotaPass.Result,
                       now: Date) -> Selection {
        let thresholds = Alerting.thresholds(config)
        let options = options(config)
        let readEvery = quotaReadEvery(config)
        let t = now.timeIntervalSince1970
        var probe = due
        for (id, reading) in bulk.readings where !probe.contains(id)
            && BulkQuotaPass.dueNow(reading, thresholds: thresholds(id), options: options, now: t)
            && ProbeSchedule.probeNowAfterBulkReading(storedDueAt: dueTimes[id], now: t, quotaReadEvery: readEvery[id], options: options) {
            probe.insert(id)
        }
        let accounts = Dictionary(config.accounts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let share = bulk.seconds / Double(max(1, bulk.readings.count))
        var quotaOnly: [AccountOutcome] = []
        for (id, reading) in bulk.readings.sorted(by: { $0.key < $1.key }) where !probe.contains(id) {
            guard case .quota(let status, let roots) = reading, let account = accounts[id] else { continue }
            quotaOnly.append(AccountOutcome(accountID: id, user: account.user, server: account.server, at: bulk.at,
                                            durationSeconds: share, result: .success(.quotaOnly(roots, status: status, durationSeconds: share))))
        }
        return Selection(probe: probe, quotaOnly: quotaOnly)
    }
}
