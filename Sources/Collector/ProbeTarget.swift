public import IMAPClient
public import MailGaugeCore

/// One account to probe in a run, with everything resolved but the secret, which is read
/// only when its turn comes (and then only held in memory for the login).
public struct ProbeTarget: Sendable {
    /// What the accounts of one server share, held once per server: a copy of the
    /// connection settings in each of 10,000 targets was megabytes of a run's peak.
    public final class Server: Sendable {
        public let name: String
        public let connection: ConnectionConfiguration
        public let forcedMethod: FolderMethod?
        /// Folders an account may list before the server is cut off.
        public let maxFolders: Int
        /// Set when the pass could not prepare this server (its TLS context): its accounts
        /// fail with it at once, without connecting.
        public let setupFailure: ProbeFailure?

        public init(name: String, connection: ConnectionConfiguration, forcedMethod: FolderMethod?,
                    maxFolders: Int = Prober.defaultMaxFolders, setupFailure: ProbeFailure? = nil) {
            self.name = name
            self.connection = connection
            self.forcedMethod = forcedMethod
            self.maxFolders = maxFolders
            self.setupFailure = setupFailure
        }
    }

    public var accountID: String
    public var user: String
    public var server: Server
    public var loginUser: String
    public var authorizationID: String?
    public var mechanism: Credentials.Mechanism
    public var secret: @Sendable () async throws(ProbeFailure) -> String

    public var serverName: String { server.name }
    public var connection: ConnectionConfiguration { server.connection }
    public var forcedMethod: FolderMethod? { server.forcedMethod }
    public var maxFolders: Int { server.maxFolders }
    public var setupFailure: ProbeFailure? { server.setupFailure }

    public init(accountID: String, user: String, server: Server, loginUser: String, authorizationID: String?,
                mechanism: Credentials.Mechanism, secret: @escaping @Sendable () async throws(ProbeFailure) -> String) {
        self.accountID = accountID
        self.user = user
        self.server = server
        self.loginUser = loginUser
        self.authorizationID = authorizationID
        self.mechanism = mechanism
        self.secret = secret
    }
}

public struct RunOptions: Sendable {
    /// Accounts probed at once.
    public var concurrency: Int
    /// Connections per server at once, by server name.
    public var maxConnections: [String: Int]
    /// Longest a whole probe (all attempts) of one account may take.
    public var accountTimeoutSeconds: Double
    /// Wait before the one retry of a transient failure.
    public var retryBackoffSeconds: Double

    public init(concurrency: Int, maxConnections: [String: Int], accountTimeoutSeconds: Double, retryBackoffSeconds: Double = 2) {
        self.concurrency = concurrency
        self.maxConnections = maxConnections
        self.accountTimeoutSeconds = accountTimeoutSeconds
        self.retryBackoffSeconds = retryBackoffSeconds
    }
}
