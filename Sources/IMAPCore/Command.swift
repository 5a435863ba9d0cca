/// The commands mailgauge sends (RFC 3501 §6 and the extensions it reads).
public enum Command: Sendable, Hashable {
    case capability
    case noop
    case logout
    case startTLS
    /// `LOGIN user password`: the password is a secret (never logged).
    case login(user: String, password: String)
    /// `AUTHENTICATE mech [initial-response]` with the base64 initial response (SASL-IR,
    /// RFC 4959) or nil to wait for the server's `+`. The response is a secret.
    case authenticate(mechanism: String, initialResponse: String?)
    /// `ID (...)` or `ID NIL` (RFC 2971).
    case id([IDParameter]?)
    case getQuotaRoot(MailboxName)
    case getQuota(root: String)
    /// `LIST reference pattern [RETURN (...)]` (RFC 3501, RFC 5258, RFC 5819).
    case list(reference: MailboxName, pattern: String, returnOptions: [ListReturnOption])
    case status(MailboxName, [StatusAttribute])
    case examine(MailboxName)
    /// `FETCH sequence-set (items)`: the items as atoms, e.g. ["RFC822.SIZE"].
    case fetch(sequenceSet: String, items: [String])
    case unselect
    case close

    /// True when the command carries a credential, so logs must redact it.
    public var carriesSecret: Bool {
        switch self {
        case .login, .authenticate: true
        default: false
        }
    }

    /// What logs may show of the command: the verb and, for secret-free commands, the rest.
    public var redactedDescription: String {
        switch self {
        case .login(let user, _): "LOGIN \(user) <password redacted>"
        case .authenticate(let mechanism, _): "AUTHENTICATE \(mechanism) <credentials redacted>"
        default:
            String(decoding: CommandEncoder(options: .init(literalPlus: true)).encode(self, tag: "").flattened.dropFirst().dropLast(2), as: UTF8.self)
        }
    }
}

/// `LIST … RETURN (…)` options (RFC 5258, RFC 5819, RFC 6154).
public enum ListReturnOption: Sendable, Hashable {
    case specialUse
    case subscribed
    case children
    case status([StatusAttribute])
}
