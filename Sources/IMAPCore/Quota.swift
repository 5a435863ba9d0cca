/// One resource of a quota root (RFC 9208 §5.1): `STORAGE` (KiB), `MESSAGE` (count),
/// `MAILBOX`, `ANNOTATION-STORAGE`, or any other name a server invents.
public struct QuotaResource: Sendable, Hashable {
    /// Upper-cased resource name.
    public var name: String
    /// Current usage, in the resource's unit (KiB for STORAGE).
    public var usage: UInt64
    /// The limit, in the same unit.
    public var limit: UInt64

    public init(name: String, usage: UInt64, limit: UInt64) {
        self.name = name.uppercased()
        self.usage = usage
        self.limit = limit
    }

    public static let storage = "STORAGE"
    public static let message = "MESSAGE"
}

/// A `QUOTA` response: one root with its resources.
public struct Quota: Sendable, Hashable {
    public var root: String
    public var resources: [QuotaResource]

    public init(root: String, resources: [QuotaResource]) {
        self.root = root
        self.resources = resources
    }
}

/// A `QUOTAROOT` response: the roots a mailbox is under (none: no quota applies).
public struct QuotaRoot: Sendable, Hashable {
    public var mailbox: MailboxName
    public var roots: [String]

    public init(mailbox: MailboxName, roots: [String]) {
        self.mailbox = mailbox
        self.roots = roots
    }
}
