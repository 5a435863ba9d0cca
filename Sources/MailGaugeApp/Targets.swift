public import Collector
public import Config
public import Foundation
import ClientNetworking
import IMAPClient
public import IMAPCore
public import Logging
import MailGaugeCore

/// Turns the config into what the collector needs.
public enum Targets {
    /// One target per account. Built once per pass: each server's TLS context (so the
    /// trust store is parsed once, not per connection; none for `tls: none`) and one
    /// secret cache (each distinct password_command runs once).
    public static func make(_ config: MailGaugeConfig, environment: [String: String] = ProcessInfo.processInfo.environment,
                            logger: Logger = Logger(label: "mailgauge")) -> [ProbeTarget] {
        let secrets = SecretCache(environment: environment, commandTimeoutSeconds: 30)
        var contexts: [String: Result<TLSClientContext, ProbeFailure>] = [:]
        for server in config.servers.values where server.tls != .none && config.accounts.contains(where: { $0.server == server.name }) {
            do {
                contexts[server.name] = .success(try TLSClientContext(caFile: server.caFile))
            } catch {
                // One error for the pass; each of the server's accounts fails with it.
                logger.error("TLS setup failed; the server's accounts are not probed this pass",
                             metadata: ["server": "\(server.name)", "error": "\(error.description)"])
                contexts[server.name] = .failure(ProbeFailure(reason: .tls, message: "TLS: \(error.description)"))
            }
        }
        return config.accounts.compactMap { account in
            guard let server = config.servers[account.server] else { return nil }
            let security: ConnectionConfiguration.Security = switch server.tls {
            case .implicit: .implicitTLS
            case .starttls: .startTLS
            case .none: .insecurePlaintext
            }
            let secretSource = account.secret
            var setupFailure: ProbeFailure?
            var tlsContext: TLSClientContext?
            switch contexts[server.name] {
            case .success(let context)?: tlsContext = context
            case .failure(let failure)?: setupFailure = failure
            case nil: break
            }
            return ProbeTarget(
                accountID: account.id, user: account.user, serverName: server.name,
                connection: ConnectionConfiguration(host: server.host, port: server.port, security: security,
                                                    caFile: server.caFile, tlsContext: tlsContext,
                                                    timeoutSeconds: server.timeoutSeconds,
                                                    maxResponsesPerCommand: server.maxResponsesPerCommand, clientID: clientID),
                loginUser: account.loginUser, authorizationID: account.authorizationID,
                mechanism: Credentials.Mechanism(rawValue: account.auth.rawValue) ?? .auto,
                forcedMethod: FolderMethod(rawValue: server.method.rawValue),
                maxFolders: server.maxFolders,
                setupFailure: setupFailure,
                secret: { () async throws(ProbeFailure) -> String in try await secrets.value(secretSource) })
        }
    }

    /// What mailgauge says of itself in IMAP `ID` (some servers require one).
    public static let clientID = [IDParameter("name", "mailgauge"), IDParameter("version", MailGaugeVersion.current)]

    public static func options(_ config: MailGaugeConfig, retryBackoffSeconds: Double = 2) -> RunOptions {
        RunOptions(concurrency: config.concurrency,
                   maxConnections: config.servers.mapValues(\.maxConnections),
                   accountTimeoutSeconds: config.accountTimeoutSeconds,
                   retryBackoffSeconds: retryBackoffSeconds)
    }
}
