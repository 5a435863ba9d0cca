public import Config
public import MailGaugeCore

/// The config's `schedule:` as the collector's and store's adaptive-polling settings.
public enum Scheduling {
    public static func options(_ config: MailGaugeConfig) -> ProbeSchedule.Options {
        ProbeSchedule.Options(policy: config.schedule.policy == .fixed ? .fixed : .adaptive,
                              passIntervalSeconds: config.schedule.intervalSeconds,
                              maxIntervalSeconds: config.schedule.maxIntervalSeconds,
                              reserveFraction: config.schedule.reserve)
    }

    static func settings(_ config: MailGaugeConfig) -> ProbeSchedule.Settings {
        ProbeSchedule.Settings(options: options(config), thresholds: Alerting.thresholds(config))
    }

    /// The accounts a pass starting at `now` probes: those due, or all (`--all`, `policy:
    /// fixed`). An account the store has never scheduled (new, or never probed) is due.
    static func due(_ config: MailGaugeConfig, dueTimes: [String: Double], now: Double, all: Bool) -> [AccountConfig] {
        let options = options(config)
        guard !all else { return config.accounts }
        return config.accounts.filter { ProbeSchedule.isDue(dueTimes[$0.id], now: now, options: options) }
    }
}
