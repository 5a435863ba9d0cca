import Foundation

/// How a URL is shown in messages, logs and `config check`: scheme://host[:port] only.
/// Webhook and API URLs often carry a token in their path or query, never shown.
public enum URLOrigin {
    public static func display(_ url: String) -> String {
        guard let c = URLComponents(string: url), let scheme = c.scheme, let host = c.host else { return "<invalid URL>" }
        return "\(scheme)://\(host)\(c.port.map { ":\($0)" } ?? "")"
    }
}
