import Config
import Foundation
import MailGaugeCore
import Store

/// Alert evaluation at the end of a run, and the stdout channel (one readable line per
/// notice, or JSON lines).
enum Alerting {
    /// Thresholds for one account: account overrides, then its server's, then defaults.
    static func thresholds(_ config: MailGaugeConfig) -> (String) -> AlertRules.Thresholds {
        let accounts = Dictionary(config.accounts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return { id in
            let account = accounts[id]
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

    static func line(_ n: AccountNotice, json: Bool) -> String {
        let usage = n.storage.map { "\(SizeFormat.size(ByteCount.kibibytes($0.usage))) of \(SizeFormat.size(ByteCount.kibibytes($0.limit)))" }
        let value: String = switch n.notice.key.rule {
        case .warning, .critical: n.notice.value.map { SizeFormat.percent($0) } ?? ""
        case .filling: n.notice.value.map { "full in \(SizeFormat.fixed($0 / 86400, digits: 1)) days" } ?? "no longer filling"
        case .probeFailing: n.notice.value.map { "\(Int($0)) failed runs in a row" } ?? ""
        }
        if json {
            let object: [String: Any] = [
                "account": n.accountID, "user": n.user, "kind": n.notice.kind.rawValue, "rule": n.notice.key.rule.rawValue,
                "resource": n.notice.key.resource, "value": n.notice.value ?? NSNull(),
                "storage_used_bytes": n.storage.flatMap { ByteCount.kibibytes($0.usage)?.value } as Any? ?? NSNull(),
                "storage_limit_bytes": n.storage.flatMap { ByteCount.kibibytes($0.limit)?.value } as Any? ?? NSNull(),
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        return "ALERT \(n.notice.kind.rawValue) \(n.notice.key.rule.rawValue) \(n.accountID) \(n.notice.key.resource): \(value)"
            + (usage.map { " (\($0))" } ?? "")
    }
}
