public import Foundation
public import MailGaugeCore

/// The rule a notice is about: an alert rule, or `mailgauge alert test`. Coded as the
/// rule's name ("critical", "probe_failing", "test") in the outbox.
public enum NoticeRule: String, Sendable, Hashable, Codable, CaseIterable {
    case warning, critical, filling, full
    case probeFailing = "probe_failing"
    case test

    public init(_ rule: AlertRules.Rule) {
        switch rule {
        case .warning: self = .warning
        case .critical: self = .critical
        case .filling: self = .filling
        case .full: self = .full
        case .probeFailing: self = .probeFailing
        }
    }

    public var alertRule: AlertRules.Rule? {
        switch self {
        case .warning: .warning
        case .critical: .critical
        case .filling: .filling
        case .full: .full
        case .probeFailing: .probeFailing
        case .test: nil
        }
    }
}

/// One alert notice as the channels see it: what changed, for whom, with the figures
/// to show. Codable, because undelivered notices wait in the database's outbox until a
/// later run delivers them.
public struct Notice: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case firing, escalated, repeated, resolved
        /// `mailgauge alert test`
        case test
    }

    public var accountID: String
    public var user: String
    public var kind: Kind
    public var rule: NoticeRule
    /// STORAGE, MESSAGE, … or "probe".
    public var resource: String
    /// Usage fraction (warning/critical), seconds until full (filling), failed runs
    /// (probe_failing).
    public var value: Double?
    /// The resource's own usage and limit when the notice was raised, in its base unit
    /// (RFC 9208): bytes for STORAGE, messages for MESSAGE, the server's unit otherwise.
    /// A probe_failing notice carries the last known STORAGE figures. Nil: unknown or not
    /// representable.
    public var usage: UInt64?
    public var limit: UInt64?
    /// The resource `usage` and `limit` are of (the notice's, or STORAGE for probe_failing).
    public var figuresResource: String
    /// The forecast date when the account's quota will be full, if growing.
    public var fullAt: Date?
    /// The latest probe failure (probe_failing), already free of secrets.
    public var failure: String?
    public var at: Date

    /// Spelled out: a key strategy would turn `accountID` into `account_id` one way and
    /// `accountId` the other, and nothing would decode.
    enum CodingKeys: String, CodingKey {
        case accountID = "account_id", user, kind, rule, resource, value, usage, limit, figuresResource = "figures_resource"
        case fullAt = "full_at", failure, at
        /// Written by versions before per-resource figures: STORAGE bytes.
        case legacyUsedBytes = "used_bytes", legacyLimitBytes = "limit_bytes"
    }

    public init(accountID: String, user: String, kind: Kind, rule: NoticeRule, resource: String, value: Double? = nil,
                usage: UInt64? = nil, limit: UInt64? = nil, figuresResource: String? = nil, fullAt: Date? = nil,
                failure: String? = nil, at: Date) {
        self.accountID = accountID
        self.user = user
        self.kind = kind
        self.rule = rule
        self.resource = resource
        self.value = value
        self.usage = usage
        self.limit = limit
        self.figuresResource = figuresResource ?? (rule == .probeFailing || rule == .test ? QuotaResourceName.storage : resource)
        self.fullAt = fullAt
        self.failure = failure
        self.at = at
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let rule = try c.decode(NoticeRule.self, forKey: .rule)
        let resource = try c.decode(String.self, forKey: .resource)
        var usage = try c.decodeIfPresent(UInt64.self, forKey: .usage)
        var limit = try c.decodeIfPresent(UInt64.self, forKey: .limit)
        var figuresResource = try c.decodeIfPresent(String.self, forKey: .figuresResource)
        if figuresResource == nil, usage == nil, limit == nil {
            // A notice queued by an older version: its figures were always STORAGE's.
            usage = try c.decodeIfPresent(ByteCount.self, forKey: .legacyUsedBytes)?.value
            limit = try c.decodeIfPresent(ByteCount.self, forKey: .legacyLimitBytes)?.value
            figuresResource = QuotaResourceName.storage
        }
        self.init(accountID: try c.decode(String.self, forKey: .accountID), user: try c.decode(String.self, forKey: .user),
                  kind: try c.decode(Kind.self, forKey: .kind), rule: rule, resource: resource,
                  value: try c.decodeIfPresent(Double.self, forKey: .value), usage: usage.flatMap { $0 <= Quantity.maximum ? $0 : nil },
                  limit: limit.flatMap { $0 <= Quantity.maximum ? $0 : nil }, figuresResource: figuresResource,
                  fullAt: try c.decodeIfPresent(Date.self, forKey: .fullAt), failure: try c.decodeIfPresent(String.self, forKey: .failure),
                  at: try c.decode(Date.self, forKey: .at))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(accountID, forKey: .accountID)
        try c.encode(user, forKey: .user)
        try c.encode(kind, forKey: .kind)
        try c.encode(rule, forKey: .rule)
        try c.encode(resource, forKey: .resource)
        try c.encode(value, forKey: .value)
        try c.encode(usage, forKey: .usage)
        try c.encode(limit, forKey: .limit)
        try c.encode(figuresResource, forKey: .figuresResource)
        try c.encodeIfPresent(fullAt, forKey: .fullAt)
        try c.encodeIfPresent(failure, forKey: .failure)
        try c.encode(at, forKey: .at)
    }

    /// Usage over limit, when both are known and there is a limit.
    public var fraction: Double? {
        guard let usage, let limit, limit > 0 else { return nil }
        return Double(usage) / Double(limit)
    }

    /// The notice for a decision of the run's alert evaluation.
    public init(_ n: AccountNotice, at: Date) {
        let kind: Kind = switch n.notice.kind {
        case .firing: .firing
        case .escalated: .escalated
        case .repeated: .repeated
        case .resolved: .resolved
        }
        self.init(accountID: n.accountID, user: n.user, kind: kind, rule: NoticeRule(n.notice.key.rule), resource: n.notice.key.subject,
                  value: n.notice.value, usage: n.quota.flatMap { Quantity.baseUnits($0.usage, resource: $0.resource) },
                  limit: n.quota.flatMap { Quantity.baseUnits($0.limit, resource: $0.resource) }, figuresResource: n.quota?.resource,
                  fullAt: n.fullAt, failure: n.notice.key.rule == .probeFailing ? n.failure : nil, at: at)
    }

    /// Higher is more urgent: digests list critical first (`AlertRules.Rule.urgency`).
    public var urgency: Int { rule.alertRule?.urgency ?? 0 }

    /// Whether the mailbox owner can act on it (usage rules; not probe failures), and it
    /// is news to them (not a resolution).
    public var concernsOwner: Bool {
        [.warning, .critical, .full, .filling, .test].contains(rule) && kind != .resolved
    }

    /// The severity shown to admins and sent as a label to Alertmanager.
    public var severity: String {
        switch rule {
        case .critical, .full: "critical"
        case .test: "info"
        case .warning, .filling, .probeFailing: "warning"
        }
    }

    public static let jsonEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    public static let jsonDecoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}

/// A folder of the mailbox, for the owner's notice.
public struct FolderSize: Sendable, Hashable {
    public var name: String
    public var specialUse: [String]
    public var messages: UInt64
    /// Nil when unknown (too large to be represented).
    public var sizeBytes: ByteCount?

    public init(name: String, specialUse: [String], messages: UInt64, sizeBytes: ByteCount?) {
        self.name = name
        self.specialUse = specialUse
        self.messages = messages
        self.sizeBytes = sizeBytes
    }

    /// What kind of folder it is, from SPECIAL-USE (RFC 6154) or, for servers without it,
    /// common names.
    public var role: Role {
        let flags = Set(specialUse.map { $0.lowercased() })
        let lower = name.lowercased()
        if flags.contains("\\trash") || ["trash", "deleted items", "deleted messages", "papierkorb", "已删除", "垃圾箱"].contains(lower) { return .trash }
        if flags.contains("\\junk") || ["junk", "spam", "junk e-mail", "垃圾邮件"].contains(lower) { return .junk }
        if flags.contains("\\sent") || ["sent", "sent items", "sent messages", "gesendet", "已发送"].contains(lower) { return .sent }
        if lower == "inbox" { return .inbox }
        return .other
    }

    public enum Role: String, Sendable { case trash, junk, sent, inbox, other }
}

/// Where the space is (or, `byMessages`, where the messages are): Trash and Junk first
/// (emptying them is free), then the largest folders, at most `limit`.
public func foldersWorthCleaning(_ folders: [FolderSize], byMessages: Bool = false, limit: Int = 5) -> [FolderSize] {
    // An order only, never shown: a size too large to be represented weighs most.
    let weight: (FolderSize) -> UInt64 = byMessages ? { $0.messages } : { $0.sizeBytes?.value ?? .max }
    let nonEmpty = folders.filter { weight($0) > 0 }
    let disposable = nonEmpty.filter { $0.role == .trash || $0.role == .junk }.sorted { weight($0) > weight($1) }
    let rest = nonEmpty.filter { $0.role != .trash && $0.role != .junk }.sorted { (weight($0), $1.name) > (weight($1), $0.name) }
    return Array((disposable + rest).prefix(limit))
}
