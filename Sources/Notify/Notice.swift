public import Foundation
public import MailGaugeCore

/// The rule a notice is about: an alert rule, or `mailgauge alert test`. Coded as the
/// rule's name ("critical", "probe_failing", "test") in the outbox.
public enum NoticeRule: String, Sendable, Hashable, Codable, CaseIterable {
    case warning, critical, filling
    case probeFailing = "probe_failing"
    case test

    public init(_ rule: AlertRules.Rule) {
        switch rule {
        case .warning: self = .warning
        case .critical: self = .critical
        case .filling: self = .filling
        case .probeFailing: self = .probeFailing
        }
    }

    public var alertRule: AlertRules.Rule? {
        switch self {
        case .warning: .warning
        case .critical: .critical
        case .filling: .filling
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
    /// The account's STORAGE figures when the notice was raised.
    public var usedBytes: ByteCount?
    public var limitBytes: ByteCount?
    /// The forecast date when the account's quota will be full, if growing.
    public var fullAt: Date?
    /// The latest probe failure (probe_failing), already free of secrets.
    public var failure: String?
    public var at: Date

    /// Spelled out: a key strategy would turn `accountID` into `account_id` one way and
    /// `accountId` the other, and nothing would decode.
    enum CodingKeys: String, CodingKey {
        case accountID = "account_id", user, kind, rule, resource, value, usedBytes = "used_bytes", limitBytes = "limit_bytes"
        case fullAt = "full_at", failure, at
    }

    public init(accountID: String, user: String, kind: Kind, rule: NoticeRule, resource: String, value: Double? = nil,
                usedBytes: ByteCount? = nil, limitBytes: ByteCount? = nil, fullAt: Date? = nil, failure: String? = nil, at: Date) {
        self.accountID = accountID
        self.user = user
        self.kind = kind
        self.rule = rule
        self.resource = resource
        self.value = value
        self.usedBytes = usedBytes
        self.limitBytes = limitBytes
        self.fullAt = fullAt
        self.failure = failure
        self.at = at
    }

    /// The notice for a decision of the run's alert evaluation.
    public init(_ n: AccountNotice, at: Date) {
        let kind: Kind = switch n.notice.kind {
        case .firing: .firing
        case .escalated: .escalated
        case .repeated: .repeated
        case .resolved: .resolved
        }
        self.init(accountID: n.accountID, user: n.user, kind: kind, rule: NoticeRule(n.notice.key.rule), resource: n.notice.key.resource,
                  value: n.notice.value, usedBytes: n.storage.flatMap { ByteCount.kibibytes($0.usage) },
                  limitBytes: n.storage.flatMap { ByteCount.kibibytes($0.limit) },
                  fullAt: n.fullAt, failure: n.notice.key.rule == .probeFailing ? n.failure : nil, at: at)
    }

    /// Higher is more urgent: digests list critical first (`AlertRules.Rule.urgency`).
    public var urgency: Int { rule.alertRule?.urgency ?? 0 }

    /// Whether the mailbox owner can act on it (usage rules; not probe failures), and it
    /// is news to them (not a resolution).
    public var concernsOwner: Bool {
        [.warning, .critical, .filling, .test].contains(rule) && kind != .resolved
    }

    /// The severity shown to admins and sent as a label to Alertmanager.
    public var severity: String {
        switch rule {
        case .critical: "critical"
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
    public var sizeBytes: ByteCount

    public init(name: String, specialUse: [String], messages: UInt64, sizeBytes: ByteCount) {
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

/// Where the space is: Trash and Junk first (emptying them is free), then the largest
/// folders, at most `limit`.
public func foldersWorthCleaning(_ folders: [FolderSize], limit: Int = 5) -> [FolderSize] {
    let nonEmpty = folders.filter { $0.sizeBytes > .zero }
    let disposable = nonEmpty.filter { $0.role == .trash || $0.role == .junk }.sorted { $0.sizeBytes > $1.sizeBytes }
    let rest = nonEmpty.filter { $0.role != .trash && $0.role != .junk }.sorted { ($0.sizeBytes, $1.name) > ($1.sizeBytes, $0.name) }
    return Array((disposable + rest).prefix(limit))
}
