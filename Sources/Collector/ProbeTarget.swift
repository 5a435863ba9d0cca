public import IMAPClient
public import MailGaugeCore

/// One account to probe in a run, with everything resolved but the secret, which is read
/// only when its turn comes (and then only held in memory for the login).
public struct ProbeTarget: Sendable {
    public var accountID: String
    public var user: String
    public var serverName: String
    public var connection: ConnectionConfiguration
    public var loginUser: String
    public var authorizationID: String?
    public var mechanism: Credentials.Mechanism
    public var forcedMethod: FolderMethod?
    /// Folders the account may list before the server is cut off.
    public var maxFolders: Int
    /// Set when the pass could not prepare this account's server (its TLS context): the
    /// account fails with it at once, without connecting.
    public var setupFailure: ProbeFailure?
    public var secret: @Sendable () async throws(ProbeFailure) -> String

    public init(accountID: String, user: String, serverName: String, connection: ConnectionConfiguration, loginUser: String,
                authorizationID: String?, mechanism: Credentials.Mechanism, forcedMethod: FolderMethod?,
                maxFolders: Int = Prober.defaultMaxFolders, setupFailure: ProbeFailure? = nil,
                secret: @escaping @Sendable () async throws(ProbeFailure) -> String) {
        self.accountID = accountID
        self.user = user
        self.serverName = serverName
        self.connection = connection
        self.loginUser = loginUser
        self.authorizationID = authorizationID
        self.mechanism = mechanism
        self.forcedMethod = forcedMethod
        self.maxFolders = maxFolders
        self.setupFailure = setupFailure
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
