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
    /// trust store is parsed once, not per connection; none for `tls: none`), one cache
    /// of host lookups and one secret cache (each distinct password_command runs once).
    /// `including`: the accounts wanted (all by default), chosen here rather than by the
    /// caller copying the config's account list.
    public static func make(_ config: MailGaugeConfig, including: (AccountConfig) -> Bool = { _ in true },
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            logger: Logger = Logger(label: "mailgauge")) -> [ProbeTarget] {
        let secrets = SecretCache(environment: environment, commandTimeoutSeconds: 30)
        let addresses = AddressCache()
        var contexts: [String: Result<TLSClientContext, ProbeFailure>] = [:]
        for server in config.servers.values
        where server.tls != .none && config.accounts.contains(where: { $0.server == server.name && including($0) }) {
            do {
                contexts[server.name] = .success(try TLSClientContext(caFile: server.caFile))
            } catch {
                // One error for the pass; each of the server's accounts fails with it.
                logger.error("TLS setup failed; the server's accounts are not probed this pass",
                             metadata: ["server": "\(server.name)", "error": "\(error.description)"])
                contexts[server.name] = .failure(ProbeFailure(reason: .tls, message: "TLS: \(error.description)"))
            }
        }
        var servers: [String: ProbeTarget.Server] = [:]
        for server in config.servers.values {
            let security: ConnectionConfiguration.Security = switch server.tls {
            case .implicit: .implicitTLS
            case .starttls: .startTLS
            case .none: .insecurePlaintext
            }
            var setupFailure: ProbeFailure?
            var tlsContext: TLSClientContext?
            switch contexts[server.name] {
            case .success(let context)?: tlsContext = context
            case .failure(let failure)?: setupFailure = failure
            case nil: break
            }
            servers[server.name] = ProbeTarget.Server(
                name: server.name,
                connection: ConnectionConfiguration(host: server.host, port: server.port, security: security,
                                                    caFile: server.caFile, tlsContext: tlsContext, addresses: addresses,
                                                    timeoutSeconds: server.timeoutSeconds,
                                                    maxResponsesPerCommand: server.maxResponsesPerCommand, clientID: clientID),
                forcedMethod: server.method.forced, maxFolders: server.maxFolders, setupFailure: setupFailure)
        }
        var targets: [ProbeTarget] = []
        targets.reserveCapacity(config.accounts.count)
        for account in config.accounts where including(account) {
            guard let server = servers[account.server] else { continue }
            let secretSource = account.secret
            targets.append(ProbeTarget(
                accountID: account.id, user: account.user, server: server,
                loginUser: account.loginUser, authorizationID: account.authorizationID,
                mechanism: account.auth.mechanism,
                secret: { () async throws(ProbeFailure) -> String in try await secrets.value(secretSource) }))
        }
        return targets
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
