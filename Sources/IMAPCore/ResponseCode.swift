/// The bracketed code at the start of a status response's text (`[ALERT]`, `[LIMIT]`, …).
/// RFC 3501 §7.1 and RFC 5530 (the codes that say *why* a command failed).
public enum ResponseCode: Sendable, Hashable {
    case alert
    case capability(Set<Capability>)
    case parse
    case readOnly
    case readWrite
    case tryCreate
    case uidNext(UInt32)
    case uidValidity(UInt32)
    case unseen(UInt32)
    case permanentFlags([String])
    // RFC 5530
    case unavailable
    case authenticationFailed
    case authorizationFailed
    case expired
    case privacyRequired
    case contactAdmin
    case noPermission
    case inUse
    case limit
    case overQuota
    case alreadyExists
    case nonExistent
    case serverBug
    case clientBug
    case cannot
    /// Any other code, with its raw argument text.
    case other(name: String, value: String?)
}

/// The text of a status response: an optional code, then human-readable text.
public struct ResponseText: Sendable, Hashable {
    public var code: ResponseCode?
    public var text: String

    public init(code: ResponseCode? = nil, text: String) {
        self.code = code
        self.text = text
    }
}

/// `OK`, `NO` or `BAD` with its text.
public struct ResponseStatus: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case ok = "OK", no = "NO", bad = "BAD" }
    public var kind: Kind
    public var text: ResponseText

    public init(_ kind: Kind, _ text: ResponseText) {
        self.kind = kind
        self.text = text
    }
}
