/// What one probe of one account found: quota per root and resource, and every folder's
/// size. Plain values, so storage, metrics and rendering are all tested without a server.
public struct MailboxSnapshot: Sendable, Hashable, Codable {
    public var quotaRoots: [QuotaRootUsage]
    public var quotaStatus: QuotaStatus
    public var folders: [FolderUsage]
    public var method: FolderMethod
    public var capabilities: [String]
    public var durationSeconds: Double
    /// `[ALERT]` texts the server sent over the protected session (RFC 3501 §7.1: they
    /// must reach a person), as received; escape with `DisplayText` to show them.
    public var alerts: [String]
    /// False for a quota-only reading (`cyrus_admin` bulk quota for an account not due for
    /// a folder probe): `folders` is empty because nobody looked, not because there are none,
    /// and the store keeps the last folder reading.
    public var foldersIncluded = true
    /// What the connection learned about the server (for server health); not part of the
    /// account's history, and taken out of the snapshot by the run once tallied.
    public var connection: ConnectionFacts? {
        get { connectionBox?.facts }
        set { connectionBox = newValue.map(ConnectionFactsBox.init) }
    }
    /// Boxed: inline, the facts (150-odd bytes, dropped once the probe ends) made each of
    /// the 10,000 outcomes a pass holds until it stores them that much larger.
    private var connectionBox: ConnectionFactsBox?

    public init(quotaRoots: [QuotaRootUsage], quotaStatus: QuotaStatus, folders: [FolderUsage], method: FolderMethod,
                capabilities: [String], durationSeconds: Double, alerts: [String] = []) {
        self.quotaRoots = quotaRoots
        self.quotaStatus = quotaStatus
        self.folders = folders
        self.method = method
        self.capabilities = capabilities
        self.durationSeconds = durationSeconds
        self.alerts = alerts
    }

    enum CodingKeys: String, CodingKey {
        case quotaRoots = "quota_roots", quotaStatus = "quota_status", folders, method, capabilities
        case durationSeconds = "duration_seconds", alerts
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(quotaRoots: try c.decode([QuotaRootUsage].self, forKey: .quotaRoots),
                  quotaStatus: try c.decode(QuotaStatus.self, forKey: .quotaStatus),
                  folders: try c.decode([FolderUsage].self, forKey: .folders),
                  method: try c.decode(FolderMethod.self, forKey: .method),
                  capabilities: try c.decode([String].self, forKey: .capabilities),
                  durationSeconds: try c.decode(Double.self, forKey: .durationSeconds),
                  alerts: try c.decodeIfPresent([String].self, forKey: .alerts) ?? [])
    }

    /// Quota read by an admin session, without a folder probe.
    public static func quotaOnly(_ roots: [QuotaRootUsage], status: QuotaStatus, durationSeconds: Double) -> MailboxSnapshot {
        var snapshot = MailboxSnapshot(quotaRoots: roots, quotaStatus: status, folders: [], method: .listStatus, capabilities: [],
                                       durationSeconds: durationSeconds)
        snapshot.foldersIncluded = false
        return snapshot
    }

    /// Sum of all folder sizes, in bytes; nil when a folder's size is unknown or the sum
    /// cannot be represented (see `Quantity`).
    public var totalFolderBytes: ByteCount? { folders.lazy.map(\.sizeBytes).total() }
    public var totalMessages: UInt64? { Quantity.sum(folders.lazy.map(\.messages)) }

    /// Why a figure of this reading is unknown, one sentence each (empty when all are known).
    public var unknownFigures: [String] { FolderUsage.unknownFigures(folders.lazy.map { ($0.name, $0.sizeBytes) }) }

    /// The first STORAGE resource across roots (the one that bounces mail when full).
    public var storage: ResourceUsage? {
        quotaRoots.lazy.flatMap(\.resources).first { $0.resource == QuotaResourceName.storage }
    }
}

/// Whether the account has a quota we can read.
public enum QuotaStatus: String, Sendable, Hashable, Codable {
    /// At least one root with at least one limit.
    case ok
    /// The server supports QUOTA but no limit applies to this mailbox.
    case unlimited
    /// The server does not offer QUOTA: only folder sums are known.
    case unsupported
}

/// How folder sizes were read, fastest first.
public enum FolderMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// `LIST … RETURN (STATUS (MESSAGES SIZE))`: one round trip (RFC 5819 + RFC 8438).
    case listStatus = "list-status"
    /// `STATUS mailbox (MESSAGES SIZE)` per folder, pipelined.
    case status
    /// `EXAMINE` + `FETCH 1:* (RFC822.SIZE)` summed: works everywhere, slow.
    case fetch
}

public struct QuotaRootUsage: Sendable, Hashable, Codable {
    public var name: String
    public var resources: [ResourceUsage]

    public init(name: String, resources: [ResourceUsage]) {
        self.name = name
        self.resources = resources
    }
}

/// One quota resource exactly as the server reports it: STORAGE in KiB (RFC 9208 §5.1).
public struct ResourceUsage: Sendable, Hashable, Codable {
    public var resource: String
    public var usage: UInt64
    public var limit: UInt64

    public init(resource: String, usage: UInt64, limit: UInt64) {
        self.resource = resource
        self.usage = usage
        self.limit = limit
    }

    /// Usage as a fraction of the limit (0 when the limit is 0).
    public var fraction: Double { limit == 0 ? 0 : Double(usage) / Double(limit) }

    /// Usage and limit in base units: bytes for STORAGE (KiB × 1024), counts otherwise;
    /// nil when the figure cannot be represented (`Quantity`).
    public var usageInBaseUnits: UInt64? { Quantity.baseUnits(usage, resource: resource) }
    public var limitInBaseUnits: UInt64? { Quantity.baseUnits(limit, resource: resource) }
}

public struct FolderUsage: Sendable, Hashable, Codable {
    /// Decoded name for people (modified UTF-7 decoded).
    public var name: String
    /// The name exactly as on the wire.
    public var rawName: String
    public var specialUse: [String]
    public var messages: UInt64
    /// Nil when unknown: the sizes of its messages add up past 2^63−1 bytes (see
    /// `unknownSizeReason`). Encoded as `null`, never left out.
    public var sizeBytes: ByteCount?

    public init(name: String, rawName: String, specialUse: [String], messages: UInt64, sizeBytes: ByteCount?) {
        self.name = name
        self.rawName = rawName
        self.specialUse = specialUse
        self.messages = messages
        self.sizeBytes = sizeBytes
    }

    enum CodingKeys: String, CodingKey {
        case name, rawName = "raw_name", specialUse = "special_use", messages, sizeBytes = "size_bytes"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(rawName, forKey: .rawName)
        try c.encode(specialUse, forKey: .specialUse)
        try c.encode(messages, forKey: .messages)
        try c.encode(sizeBytes, forKey: .sizeBytes)  // null when unknown
    }

    /// Why a folder's size is unknown: the only way a server's figures make it so.
    public static let unknownSizeReason = "its messages' sizes add up past 2^63-1 bytes"

    /// Why figures of a folder list are unknown: each folder whose size is, and the total
    /// when the known sizes cannot be added up. Folder names as received: escape to show.
    public static func unknownFigures<S: Sequence>(_ folders: S) -> [String] where S.Element == (name: String, size: ByteCount?) {
        var reasons: [String] = []
        var total: ByteCount? = .zero
        for (name, size) in folders {
            if let size { total = total?.adding(size) } else {
                reasons.append("size of folder \"\(name)\" unknown: \(unknownSizeReason)")
            }
        }
        if reasons.isEmpty && total == nil { reasons.append("total size of the folders unknown: their sizes add up past 2^63-1 bytes") }
        return reasons
    }
}

private final class ConnectionFactsBox: Sendable, Hashable {
    let facts: ConnectionFacts

    init(_ facts: ConnectionFacts) { self.facts = facts }

    static func == (a: ConnectionFactsBox, b: ConnectionFactsBox) -> Bool { a.facts == b.facts }
    func hash(into hasher: inout Hasher) { hasher.combine(facts) }
}
