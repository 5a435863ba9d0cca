public import Config

/// What `config check` prints when the config is valid.
public enum ConfigSummary {
    public static func render(_ config: MailGaugeConfig) -> String {
        var out = "config OK: \(config.path)\n"
        out += "  database: \(config.database)\n"
        out += "  accounts: \(config.accounts.count) (concurrency \(config.concurrency))\n"
        for server in config.servers.values.sorted(by: { $0.name < $1.name }) {
            let count = config.accounts.filter { $0.server == server.name }.count
            let master = config.accounts.filter { $0.server == server.name && $0.authorizationID != nil }.count
            out += "  server \(server.name): \(server.tls == .implicit ? "imaps" : server.tls == .starttls ? "imap+STARTTLS" : "imap (plaintext)")://"
                + "\(server.host):\(server.port), \(count) accounts\(master > 0 ? " (\(master) via master login)" : ""), "
                + "max \(server.maxConnections) connections, timeout \(Int(server.timeoutSeconds))s\n"
        }
        out += "  thresholds: warning \(Int(config.defaults.warning * 100))%, critical \(Int(config.defaults.critical * 100))%\n"
        out += "  folders export: \(config.folders.export.rawValue)\(config.folders.export == .top ? " \(config.folders.topN)" : "")\n"
        return out
    }
}
