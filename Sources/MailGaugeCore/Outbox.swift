public import Foundation

/// Which delivery a queued notice waits for. Stored as text (`rawValue`) in the outbox.
public enum OutboxChannel: Sendable, Hashable, Comparable {
    /// The admin digest.
    case adminEmail
    /// One account owner's notice.
    case ownerEmail(accountID: String)
    /// One configured webhook; the key is a hash of its URL (URLs often embed a token and
    /// the database must not hold secrets).
    case webhook(key: String)
    /// A channel this version does not know (an older or newer one wrote it): nowhere to
    /// deliver, so it is dropped.
    case unrecognized(String)

    public init(rawValue: String) {
        if rawValue == "email" {
            self = .adminEmail
        } else if rawValue.hasPrefix("owner_email:") {
            self = .ownerEmail(accountID: String(rawValue.dropFirst("owner_email:".count)))
        } else if rawValue.hasPrefix("webhook:") {
            self = .webhook(key: String(rawValue.dropFirst("webhook:".count)))
        } else {
            self = .unrecognized(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .adminEmail: "email"
        case .ownerEmail(let id): "owner_email:" + id
        case .webhook(let key): "webhook:" + key
        case .unrecognized(let raw): raw
        }
    }

    /// The delivery-failure counter's label (`mailgauge_notification_failures_total`).
    public var counterLabel: String {
        switch self {
        case .adminEmail: "email"
        case .ownerEmail: "owner_email"
        case .webhook: "webhook"
        case .unrecognized(let raw): raw
        }
    }

    public static func < (a: OutboxChannel, b: OutboxChannel) -> Bool { a.rawValue < b.rawValue }
}

/// Where a notice goes: the outbox channel and its JSON payload.
public struct OutboxItem: Sendable, Hashable {
    public var channel: OutboxChannel
    public var payload: Data

    public init(channel: OutboxChannel, payload: Data) {
        self.channel = channel
        self.payload = payload
    }
}

/// A notice waiting for one channel.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var channel: OutboxChannel
    public var accountID: String
    /// The notice, as JSON (the Notify target's `Notice`).
    public var payload: Data
    public var createdAt: Date
    public var attempts: Int
    public var lastError: String?

    public init(id: Int64, channel: OutboxChannel, accountID: String, payload: Data, createdAt: Date, attempts: Int, lastError: String?) {
        self.id = id
        self.channel = channel
        self.accountID = accountID
        self.payload = payload
        self.createdAt = createdAt
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// An alert firing now, as stored.
public struct FiringAlert: Sendable, Hashable {
    public var accountID: String
    public var key: AlertRules.Key
    public var since: Date
    public var value: Double?

    public init(accountID: String, key: AlertRules.Key, since: Date, value: Double?) {
        self.accountID = accountID
        self.key = key
        self.since = since
        self.value = value
    }
}

/// What notification delivery needs from storage (the `Store` implements it): the queue,
/// each delivery's outcome, and the current picture for channels that resend it.
public protocol NotificationOutbox: Sendable {
    func pendingNotifications() throws -> [OutboxEntry]
    func notificationsDelivered(ids: [Int64]) throws
    /// Keeps the notices for the next run and counts one failure against `counterChannel`.
    func notificationsFailed(ids: [Int64], counterChannel: String, error: String) throws
    func dropStaleNotifications(olderThan cutoff: Date) throws -> Int
    func firingAlerts() throws -> [FiringAlert]
    func latestStates() throws -> [AccountState]
}
