import ClientNetworking
public import IMAPCore

/// Why talking to an IMAP server failed, in the terms an admin acts on. The description
/// is one line, says which stage failed, and never contains a credential.
public enum IMAPClientError: Error, Sendable, CustomStringConvertible {
    /// The host name did not resolve.
    case dns(host: String, reason: String)
    /// TCP connect failed (refused, unreachable, connect timeout).
    case connect(host: String, port: Int, reason: String)
    /// The TLS handshake failed (certificate not trusted, wrong host name, protocol version).
    case tls(reason: String)
    /// `imap://` requires STARTTLS, and the server does not offer it: refused before login.
    case startTLSUnavailable
    /// The server refused STARTTLS.
    case startTLSRefused(ResponseText)
    /// The server says LOGINDISABLED (or the link is unencrypted without opt-in): no
    /// credentials were sent.
    case loginDisabled(reason: String)
    /// The chosen SASL mechanism is not offered by the server.
    case mechanismUnavailable(String)
    /// Login was refused; `code` is the server's RFC 5530 code when it sent one.
    case authenticationFailed(ResponseText)
    /// A command got NO or BAD.
    case commandFailed(command: String, status: ResponseStatus)
    /// The server sent something we could not parse, or broke the protocol.
    case protocolViolation(String)
    /// No answer within the command timeout.
    case timeout(stage: String, seconds: Double)
    /// The server closed the connection (BYE, with its response code if any, or EOF).
    case connectionClosed(reason: String, code: ResponseCode? = nil)

    public var description: String {
        switch self {
        case .dns(let host, let reason): "DNS: cannot resolve \(host): \(reason)"
        case .connect(let host, let port, let reason): "connect: \(host):\(port): \(reason)"
        case .tls(let reason): "TLS: \(reason)"
        case .startTLSUnavailable: "TLS: server does not offer STARTTLS; refusing to log in over an unencrypted connection (use imaps:// or --insecure-plaintext)"
        case .startTLSRefused(let text): "TLS: server refused STARTTLS: \(text.text)"
        case .loginDisabled(let reason): "auth: \(reason)"
        case .mechanismUnavailable(let m): "auth: server does not offer AUTH=\(m)"
        case .authenticationFailed(let text):
            "auth: login failed\(text.code.map { " [\(Self.codeName($0))]" } ?? ""): \(text.text)"
        case .commandFailed(let command, let status):
            "protocol: \(command) failed: \(status.kind.rawValue)\(status.text.code.map { " [\(Self.codeName($0))]" } ?? "") \(status.text.text)"
        case .protocolViolation(let why): "protocol: \(why)"
        case .timeout(let stage, let seconds): "timeout: no answer to \(stage) within \(Self.formatSeconds(seconds))"
        case .connectionClosed(let reason, let code):
            "protocol: connection closed by server\(code.map { " [\(Self.codeName($0))]" } ?? ""): \(reason)"
        }
    }

    /// The stage that failed, as failure records and metrics classify it.
    public enum FailureClass: String, Sendable, CaseIterable {
        case dns, connect, tls, auth, timeout, `protocol`
    }

    public var failureClass: FailureClass {
        switch self {
        case .dns: .dns
        case .connect: .connect
        case .tls, .startTLSUnavailable, .startTLSRefused: .tls
        case .loginDisabled, .mechanismUnavailable, .authenticationFailed: .auth
        case .timeout: .timeout
        case .commandFailed, .protocolViolation, .connectionClosed: .protocol
        }
    }

    /// The server's response code (RFC 5530) with the failure, when it sent one.
    public var responseCode: ResponseCode? {
        switch self {
        case .commandFailed(_, let status): status.text.code
        case .authenticationFailed(let text), .startTLSRefused(let text): text.code
        case .connectionClosed(_, let code): code
        default: nil
        }
    }

    /// Worth one retry: the network or the server may answer next time. The one rule of
    /// the project: connect failures and timeouts, and whatever the server marks
    /// `[UNAVAILABLE]` (temporary failure) or `[LIMIT]` (too many of us: retry slower).
    public var isTransient: Bool {
        switch self {
        case .connect, .timeout: return true
        default: return responseCode == .unavailable || isRateLimited
        }
    }

    /// The server said `[LIMIT]`: we are too many, slow down.
    public var isRateLimited: Bool { responseCode == .limit }

    static func codeName(_ code: ResponseCode) -> String {
        switch code {
        case .alert: "ALERT"
        case .unavailable: "UNAVAILABLE"
        case .authenticationFailed: "AUTHENTICATIONFAILED"
        case .authorizationFailed: "AUTHORIZATIONFAILED"
        case .limit: "LIMIT"
        case .overQuota: "OVERQUOTA"
        case .nonExistent: "NONEXISTENT"
        case .expired: "EXPIRED"
        case .privacyRequired: "PRIVACYREQUIRED"
        case .contactAdmin: "CONTACTADMIN"
        case .noPermission: "NOPERM"
        case .inUse: "INUSE"
        case .serverBug: "SERVERBUG"
        case .other(let name, _): name
        default: "\(code)".uppercased()
        }
    }

    static func formatSeconds(_ s: Double) -> String { ClientNetworking.formatSeconds(s) }
}
