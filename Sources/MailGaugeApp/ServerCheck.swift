public import Foundation
public import Config
public import MailGaugeCore
public import Presentation
import Store

/// `mailgauge check --server NAME`: the server's stored health as a plugin line. The
/// certificate decides (WARNING under `warningDays`, CRITICAL under `criticalDays`, or a
/// failed verification); stale or missing health is UNKNOWN.
public enum ServerCheck {
    public struct Thresholds: Sendable {
        public var warningSeconds = 14 * 86400.0
        public var criticalSeconds = 3 * 86400.0
        public init() {}
    }

    /// Evaluates the endpoints of one server (pure).
    public static func evaluate(server: String, health: [ServerHealth], thresholds: Thresholds, maxAgeSeconds: Double,
                                now: Date) -> NagiosCheck.Output {
        let endpoints = health.filter { $0.server == server }
        guard !endpoints.isEmpty else {
            return .init(state: .unknown, text: "MAILGAUGE SERVER UNKNOWN - no health stored for server \"\(server)\" yet (run `mailgauge run`)")
        }
        var worst = NagiosCheck.State.ok
        var parts: [String] = []
        var perfdata: [String] = []
        for h in endpoints {
            var state = NagiosCheck.State.ok
            var text = "\(h.endpoint)"
            let age = now.timeIntervalSince(h.checkedAt)
            if age > maxAgeSeconds {
                state = .unknown
                text += " last checked \(SizeFormat.fixed(age / 3600, digits: 1)) h ago"
            }
            if let tls = h.tls {
                let left = tls.certificate.chainNotAfter.timeIntervalSince(now)
                let days = left / 86400
                if left < thresholds.criticalSeconds { state = max(state, .critical) } else if left < thresholds.warningSeconds { state = max(state, .warning) }
                text += left <= 0 ? " certificate EXPIRED \(Reports.day(tls.certificate.chainNotAfter))"
                    : " certificate expires in \(SizeFormat.fixed(days, digits: 1)) d (\(Reports.day(tls.certificate.chainNotAfter)))"
                text += ", \(tls.version)\(tls.cipher.map { " \($0)" } ?? "")"
                perfdata.append("'\(h.endpoint) cert_days'=\(SizeFormat.fixed(days, digits: 2));\(SizeFormat.fixed(thresholds.warningSeconds / 86400, digits: 0));\(SizeFormat.fixed(thresholds.criticalSeconds / 86400, digits: 0))")
            } else if h.tlsFailures == 0 {
                text += " without TLS"
            }
            if h.tlsFailures > 0 {
                state = max(state, .critical)
                text += ", \(h.tlsFailures) TLS failure\(h.tlsFailures == 1 ? "" : "s"): \(h.tlsFailure ?? "")"
            }
            if let p90 = h.loginQuantiles[0.9] {
                text += ", login p90 \(SizeFormat.fixed(p90, digits: 3)) s"
                perfdata.append("'\(h.endpoint) login_p90'=\(SizeFormat.fixed(p90, digits: 3))s")
            }
            worst = max(worst, state)
            parts.append(text)
        }
        return .init(state: worst, text: "MAILGAUGE SERVER \(worst.label) - \(server): \(parts.joined(separator: "; ")) | \(perfdata.joined(separator: " "))")
    }

    /// Reads the stored health and evaluates it.
    public static func run(config: MailGaugeConfig, server: String, thresholds: Thresholds, maxAgeSeconds: Double?, now: Date = Date())
        -> NagiosCheck.Output {
        guard config.servers[server] != nil else {
            return .init(state: .unknown, text: "MAILGAUGE SERVER UNKNOWN - no server \"\(server)\" in \(config.path)")
        }
        let health: [ServerHealth]
        do {
            health = try AppDatabase.openReadOnly(path: config.database).serverHealth()
        } catch {
            return .init(state: .unknown, text: "MAILGAUGE SERVER UNKNOWN - database \(config.database): \(error)")
        }
        return evaluate(server: server, health: health, thresholds: thresholds,
                        maxAgeSeconds: maxAgeSeconds ?? NagiosCheck.defaultMaxAge(config), now: now)
    }
}
