public import ClientNetworking
public import IMAPCore

/// How to reach one IMAP server.
public struct ConnectionConfiguration: Sendable {
    /// implicit TLS (`imaps://`, 993), STARTTLS (`imap://`, 143), or the plaintext opt-in
    /// (credentials are still refused when the server says LOGINDISABLED).
    public typealias Security = TransportSecurity

    public var host: String
    public var port: Int
    public var security: Security
    /// PEM file of CA certificates to trust instead of the system store.
    public var caFile: String?
    /// The TLS context shared by every connection to this server in a pass (built once:
    /// parsing the system trust store per connection costs more than the probe). Nil:
    /// built from `caFile` for this connection.
    public var tlsContext: TLSClientContext?
    /// The pass's host lookups, shared by its connections; nil: a lookup per connection.
    public var addresses: AddressCache?
    /// Connect timeout, and the deadline for each command's complete answer.
    public var timeoutSeconds: Double
    /// Untagged responses one command may draw before the server is cut off (a FETCH of
    /// RFC822.SIZE draws one per message).
    public var maxResponsesPerCommand: Int
    public var parserLimits: ResponseParser.Limits
    /// Sent with `ID` when the server offers it (some servers require an ID).
    public var clientID: [IDParameter]

    public init(host: String, port: Int, security: Security, caFile: String? = nil, tlsContext: TLSClientContext? = nil,
                addresses: AddressCache? = nil, timeoutSeconds: Double = 30, maxResponsesPerCommand: Int = 2_000_000,
                parserLimits: ResponseParser.Limits = .init(),
                clientID: [IDParameter] = [IDParameter("name", "mailgauge")]) {
        self.host = host
        self.port = port
        self.security = security
        self.caFile = caFile
        self.tlsContext = tlsContext
        self.addresses = addresses
        self.timeoutSeconds = timeoutSeconds
        self.maxResponsesPerCommand = maxResponsesPerCommand
        self.parserLimits = parserLimits
        self.clientID = clientID
    }
}

/// Who to log in as, and how.
public struct Credentials: Sendable {
    public enum Mechanism: String, Sendable, CaseIterable {
        /// AUTHENTICATE PLAIN when offered, else LOGIN.
        case auto
        case login
        case plain
        case xoauth2
        case oauthbearer
    }

    public var user: String
    /// Password, or the OAuth2 access token for xoauth2/oauthbearer.
    public var secret: String
    public var mechanism: Mechanism
    /// Authorization identity: with Dovecot master users, the mailbox to open, while
    /// `user` is the master user (SASL PLAIN authzid).
    public var authorizationID: String?

    public init(user: String, secret: String, mechanism: Mechanism = .auto, authorizationID: String? = nil) {
        self.user = user
        self.secret = secret
        self.mechanism = mechanism
        self.authorizationID = authorizationID
    }
}

extension Credentials: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never prints the secret, even by accident in a log or a test failure.
    public var description: String {
        "Credentials(user: \(user), mechanism: \(mechanism.rawValue)\(authorizationID.map { ", authzid: \($0)" } ?? ""), secret: <redacted>)"
    }
    public var debugDescription: String { description }
}
