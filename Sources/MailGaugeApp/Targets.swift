public import Collector
public import Config
public import Foundation
import IMAPClient
import MailGaugeCore

/// Turns the config into what the collector needs.
public enum Targets {
    public static func make(_ config: MailGaugeConfig, environment: [String: String] = ProcessInfo.processInfo.environment) -> [ProbeTarget] {
        config.accounts.compactMap { account in
            guard let server = config.servers[account.server] else { return nil }
            let security: ConnectionConfiguration.Security = switch server.tls {
            case .implicit: .implicitTLS
            case .starttls: .startTLS
            case .none: .insecurePlaintext
            }
            let secretSource = account.secret
            return ProbeTarget(
                accountID: account.id, user: account.user, serverName: server.name,
                connection: ConnectionConfiguration(host: server.host, port: server.port, security: security,
                                                    caFile: server.caFile, timeoutSeconds: server.timeoutSeconds),
                loginUser: account.loginUser, authorizationID: account.authorizationID,
                mechanism: Credentials.Mechanism(rawValue: account.auth) ?? .auto,
                forcedMethod: FolderMethod(rawValue: server.method),
                secret: { () throws(ProbeFailure) -> String in try Secrets.resolve(secretSource, environment: environment) })
        }
    }

    public static func options(_ config: MailGaugeConfig, retryBackoffSeconds: Double = 2) -> RunOptions {
        RunOptions(concurrency: config.concurrency,
                   maxConnections: config.servers.mapValues(\.maxConnections),
                   accountTimeoutSeconds: config.accountTimeoutSeconds,
                   retryBackoffSeconds: retryBackoffSeconds)
    }
}
