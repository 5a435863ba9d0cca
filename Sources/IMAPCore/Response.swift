/// One complete server response (RFC 3501 §7, §2.2.2).
public enum Response: Sendable, Hashable {
    /// `tag OK|NO|BAD …`: the end of the command with that tag.
    case tagged(tag: String, status: ResponseStatus)
    /// `* …`: data or status not tied to one command.
    case untagged(UntaggedResponse)
    /// `+ …`: the server waits for more of the command (literal, SASL step).
    case continuation(String)
}

/// The untagged responses mailgauge reads, plus `other` for everything else, so an
/// extension a server sends unasked never breaks a session.
public enum UntaggedResponse: Sendable, Hashable {
    case status(ResponseStatus)
    case preauth(ResponseText)
    case bye(ResponseText)
    case capability(Set<Capability>)
    case enabled([String])
    case list(MailboxListing)
    case lsub(MailboxListing)
    case mailboxStatus(MailboxStatus)
    case quota(Quota)
    case quotaRoot(QuotaRoot)
    /// `ID` parameters in server order (RFC 2971); nil for `ID NIL`.
    case id([IDParameter]?)
    case flags([String])
    case exists(UInt32)
    case recent(UInt32)
    case expunge(UInt32)
    case fetch(sequence: UInt32, attributes: [FetchAttribute])
    case search([UInt32])
    /// An untagged response we do not model: its keyword and the rest of the line.
    case other(keyword: String, rest: [UInt8])
}

/// One field/value pair of an `ID` response or command.
public struct IDParameter: Sendable, Hashable {
    public var key: String
    public var value: String?

    public init(_ key: String, _ value: String?) {
        self.key = key
        self.value = value
    }
}

/// One item of a `FETCH` response.
public enum FetchAttribute: Sendable, Hashable {
    case rfc822Size(UInt64)
    case uid(UInt32)
    case flags([String])
    case internalDate(String)
    case modSeq(UInt64)
    /// Anything else (BODY[…], ENVELOPE, BODYSTRUCTURE, …), kept generically.
    case other(name: String, value: IMAPValue)
}
