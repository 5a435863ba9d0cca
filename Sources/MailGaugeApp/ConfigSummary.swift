import ClientNetworking
public import Config
import Notify

/// What `config check` prints when the config is valid.
public enum ConfigSummary {
    public static func render(_ config: MailGaugeConfig) -> String {
        var out = "config OK: \(config.path)\n"
        out += "  database: \(config.database)\n"
        out += "  accounts: \(config.accounts.count) (concurrency \(config.concurrency))\n"
        if let shard = config.shard {
            out += "  shard: \(shard): \(config.accounts.count) of the \(config.listedAccountCount) accounts listed\n"
        }
        for server in config.servers.values.sorted(by: { $0.name < $1.name }) {
            let count = config.accounts.filter { $0.server == server.name }.count
            let master = config.accounts.filter { $0.server == server.name && $0.authorizationID != nil }.count
            out += "  server \(server.name): \(server.tls == .implicit ? "imaps" : server.tls == .starttls ? "imap+STARTTLS" : "imap (plaintext)")://"
                + "\(server.host):\(server.port), \(count) accounts\(master > 0 ? " (\(master) via master login)" : ""), "
                + "max \(server.maxConnections) connections, timeout \(Int(server.timeoutSeconds))s\n"
        }
        // Bulk quota readings: where every quota is read, and how often.
        let cyrus = config.accounts.filter { $0.masterMode == .cyrusAdmin }.count
        if cyrus > 0 { out += "  bulk quota: \(cyrus) accounts over one Cyrus admin login each pass\n" }
        let doveadm = Dictionary(grouping: config.accounts.compactMap(\.doveadm), by: \.url)
        for (url, group) in doveadm.sorted(by: { $0.key < $1.key }) {
            let api = group[0]
            let every = Units.describe(seconds: Scheduling.doveadmInterval(api, config))
            out += "  bulk quota: \(group.count) accounts through the doveadm API \(URLOrigin.display(url)) (\(api.method.rawValue)), every \(every)\n"
        }
        out += "  thresholds: warning \(Int(config.defaults.warning * 100))%, critical \(Int(config.defaults.critical * 100))%\n"
        out += "  folders export: \(config.folders.export.rawValue)\(config.folders.export == .top ? " \(config.folders.topN)" : "")\n"
        var channels: [String] = []
        if config.alerts.stdout { channels.append("stdout (\(config.alerts.stdoutFormat.rawValue))") }
        if let email = config.alerts.email {
            let via = email.smtp.map { "smtp \($0.host):\($0.port) \($0.tls.rawValue)" } ?? "sendmail \(email.sendmail ?? "")"
            let owners = Notifications.plan(config).owners.count
            channels.append("email to \(email.to.count) admin(s) and \(owners) owner(s) via \(via)")
        }
        for hook in config.alerts.webhooks { channels.append("webhook \(hook.format.rawValue) \(Webhook.redacted(hook.url))") }
        out += "  alert channels: \(channels.isEmpty ? "none" : channels.joined(separator: "; "))\n"
        // With mail configured: owners without an address can never be told their mailbox
        // is filling.
        if config.alerts.email != nil {
            let missing = config.accounts.filter { Notifications.ownerAddress($0) == nil }.map(\.id)
            out += "  owner addresses: \(config.accounts.count - missing.count) of \(config.accounts.count) accounts"
            if !missing.isEmpty {
                out += "; \(missing.count) without (owner_email, owners_file or a template would give one): "
                    + missing.prefix(5).joined(separator: ", ") + (missing.count > 5 ? ", …" : "")
            }
            out += "\n"
        }
        return out
    }
}
