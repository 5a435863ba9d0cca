import Config
import MailGaugeCore

/// The alert thresholds in force for each account, from the config.
enum Alerting {
    /// Thresholds for one account: account overrides, then its server's, then defaults.
    static func thresholds(_ config: MailGaugeConfig) -> @Sendable (String) -> AlertRules.Thresholds {
        // Positions, not copies of the accounts: at 10,000 accounts a dictionary of whole
        // account configs was 6.5 MB of a run's peak.
        let positions = Dictionary(config.accounts.indices.map { (config.accounts[$0].id, $0) }, uniquingKeysWith: { a, _ in a })
        return { id in
            let account = positions[id].map { config.accounts[$0] }
            let server = account.flatMap { config.servers[$0.server] }?.thresholds
            let a = account?.thresholds
            return AlertRules.Thresholds(
                warning: a?.warning ?? server?.warning ?? config.defaults.warning,
                critical: a?.critical ?? server?.critical ?? config.defaults.critical,
                forecastHorizonSeconds: a?.forecastHorizonSeconds ?? server?.forecastHorizonSeconds ?? config.defaults.forecastHorizonSeconds,
                hysteresis: config.alerts.hysteresis, probeFailingRuns: config.alerts.probeFailingRuns,
                repeatIntervalSeconds: config.alerts.repeatIntervalSeconds,
                minFreeBytes: (a?.minFreeBytes ?? server?.minFreeBytes ?? config.defaults.minFreeBytes).map(Double.init))
        }
    }
}
