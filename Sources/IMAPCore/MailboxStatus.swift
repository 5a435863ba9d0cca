/// A `STATUS` response (RFC 3501 §7.2.4; SIZE from RFC 8438, DELETED from RFC 9051,
/// HIGHESTMODSEQ from RFC 7162, APPENDLIMIT from RFC 7889).
public struct MailboxStatus: Sendable, Hashable {
    public var name: MailboxName
    public var messages: UInt64?
    public var recent: UInt64?
    public var uidNext: UInt64?
    public var uidValidity: UInt64?
    public var unseen: UInt64?
    /// Total size in octets of all messages (RFC 8438), as RFC822.SIZE would add up.
    public var size: UInt64?
    public var deleted: UInt64?
    public var highestModSeq: UInt64?
    /// Attributes we do not model, by upper-cased name (number values only; NIL is dropped).
    public var other: [String: UInt64]

    public init(name: MailboxName, messages: UInt64? = nil, recent: UInt64? = nil, uidNext: UInt64? = nil,
                uidValidity: UInt64? = nil, unseen: UInt64? = nil, size: UInt64? = nil, deleted: UInt64? = nil,
                highestModSeq: UInt64? = nil, other: [String: UInt64] = [:]) {
        self.name = name
        self.messages = messages
        self.recent = recent
        self.uidNext = uidNext
        self.uidValidity = uidValidity
        self.unseen = unseen
        self.size = size
        self.deleted = deleted
        self.highestModSeq = highestModSeq
        self.other = other
    }
}

/// Attributes one can ask `STATUS` for.
public enum StatusAttribute: String, Sendable, Hashable, CaseIterable {
    case messages = "MESSAGES"
    case recent = "RECENT"
    case uidNext = "UIDNEXT"
    case uidValidity = "UIDVALIDITY"
    case unseen = "UNSEEN"
    case size = "SIZE"
    case deleted = "DELETED"
    case highestModSeq = "HIGHESTMODSEQ"
}
