public import Foundation

// What readers (report, history, check, metrics) see of the store: plain values, so the
// renderers depend on MailGaugeCore alone and are tested without a database.

/// One point of an account's quota history.
public struct QuotaPoint: Sendable, Hashable, Codable {
    public var at: Date
    public var root: String
    public var resource: String
    public var usage: UInt64
    public var limit: UInt64
    public var resolution: Resolution

    /// A raw sample, or the largest of an hour's or a day's (older history is rolled up).
    public enum Resolution: String, Sendable, Hashable, Codable {
        case raw, hour, day
    }

    public init(at: Date, root: String, resource: String, usage: UInt64, limit: UInt64, resolution: Resolution) {
        self.at = at
        self.root = root
        self.resource = resource
        self.usage = usage
        self.limit = limit
        self.resolution = resolution
    }
}

public struct FolderPoint: Sendable, Hashable, Codable {
    public var at: Date
    public var name: String
    public var specialUse: [String]
    public var messages: UInt64
    /// Nil when unknown (`FolderUsage.unknownSizeReason`).
    public var sizeBytes: ByteCount?

    public init(at: Date, name: String, specialUse: [String], messages: UInt64, sizeBytes: ByteCount?) {
        self.at = at
        self.name = name
        self.specialUse = specialUse
        self.messages = messages
        self.sizeBytes = sizeBytes
    }
}

public struct RunInfo: Sendable, Hashable {
    public var id: Int64
    public var startedAt: Date
    public var finishedAt: Date
    public var accounts: Int
    public var failures: Int

    public init(id: Int64, startedAt: Date, finishedAt: Date, accounts: Int, failures: Int) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.accounts = accounts
        self.failures = failures
    }
}

/// The latest state of one account, for reports and metrics.
public struct AccountState: Sendable, Hashable {
    public var id: String
    public var user: String
    public var server: String
    public var lastSeen: Date
    public var lastSuccess: Date?
    public var consecutiveFailures: Int
    /// The latest probe's outcome.
    public var lastProbeOK: Bool
    public var lastProbeDuration: Double
    public var failureReason: FailureReason?
    public var failureMessage: String?
    public var quotaStatus: QuotaStatus?
    /// Quota at the last success (not shown as current when the last probe failed).
    public var quota: [QuotaPoint]
    public var folders: [FolderPoint]
    /// Forecasts from the last successful run, by resource.
    public var forecasts: [StoredForecast] = []
    /// The latest `[ALERT]` the server sent for this account, as received (escape it
    /// with `DisplayText` to show it), and when.
    public var serverAlert: String?
    public var serverAlertAt: Date?
    /// When the adaptive schedule next probes it, and why.
    public var nextProbeAt: Date?
    public var nextProbeReason: ProbeSchedule.Reason?

    /// Characters of server alert text kept.
    public static let maxServerAlertLength = 2000

    public init(id: String, user: String, server: String, lastSeen: Date, lastSuccess: Date?, consecutiveFailures: Int,
                lastProbeOK: Bool, lastProbeDuration: Double, failureReason: FailureReason?, failureMessage: String?, quotaStatus: QuotaStatus?,
                quota: [QuotaPoint], folders: [FolderPoint], forecasts: [StoredForecast] = [], serverAlert: String? = nil,
                serverAlertAt: Date? = nil, nextProbeAt: Date? = nil, nextProbeReason: ProbeSchedule.Reason? = nil) {
        self.nextProbeAt = nextProbeAt
        self.nextProbeReason = nextProbeReason
        self.id = id
        self.user = user
        self.server = server
        self.lastSeen = lastSeen
        self.lastSuccess = lastSuccess
        self.consecutiveFailures = consecutiveFailures
        self.lastProbeOK = lastProbeOK
        self.lastProbeDuration = lastProbeDuration
        self.failureReason = failureReason
        self.failureMessage = failureMessage
        self.quotaStatus = quotaStatus
        self.quota = quota
        self.folders = folders
        self.forecasts = forecasts
        self.serverAlert = serverAlert
        self.serverAlertAt = serverAlertAt
    }
}

public struct StoredForecast: Sendable, Hashable {
    public var root: String
    public var resource: String
    /// When the resource will be full; nil when not growing or not enough data.
    public var fullAt: Date?
    public var slopePerSecond: Double?
    public var status: Status

    public enum Status: String, Sendable, Hashable, Codable {
        case filling, full
        case notGrowing = "not_growing"
        case insufficientData = "insufficient_data"
    }

    public init(root: String, resource: String, fullAt: Date?, slopePerSecond: Double?, status: Status) {
        self.root = root
        self.resource = resource
        self.fullAt = fullAt
        self.slopePerSecond = slopePerSecond
        self.status = status
    }
}

/// Everything the metrics are rendered from, read from the store in one transaction.
public struct StoredState: Sendable {
    public var states: [AccountState]
    /// Failed probes per account and reason (monotonic: a Prometheus counter).
    public var failureCounts: [String: [String: Int]]
    public var lastRun: RunInfo?
    /// Failed notification deliveries per channel kind (email, owner_email, webhook).
    public var notificationFailures: [String: Int]
    /// Notices waiting in the outbox.
    public var notificationsPending: Int
    /// Each server endpoint's health after the latest pass that reached it.
    public var servers: [ServerHealth] = []

    public init(states: [AccountState], failureCounts: [String: [String: Int]], lastRun: RunInfo?,
                notificationFailures: [String: Int] = [:], notificationsPending: Int = 0) {
        self.states = states
        self.failureCounts = failureCounts
        self.lastRun = lastRun
        self.notificationFailures = notificationFailures
        self.notificationsPending = notificationsPending
    }
}

extension StoredState {
    /// Only the accounts in the config now: an account removed from it is no longer
    /// exported or reported (its history stays until retention or `accounts prune`).
    public func limited(to accounts: Set<String>) -> StoredState {
        var copy = self
        copy.states = states.filter { accounts.contains($0.id) }
        copy.failureCounts = failureCounts.filter { accounts.contains($0.key) }
        return copy
    }
}

extension AccountState {
    /// Why a figure of the latest folder reading is unknown (empty when all are known;
    /// needs the folders read).
    public var unknownFigures: [String] { FolderUsage.unknownFigures(folders.lazy.map { ($0.name, $0.sizeBytes) }) }

    /// The resource's figures from its fullest quota root (the one the alert rules judge);
    /// the first root when none has a limit.
    public func fullestQuota(_ resource: String) -> QuotaPoint? {
        let points = quota.filter { $0.resource == resource }
        return points.filter { $0.limit > 0 }.max { Double($0.usage) / Double($0.limit) < Double($1.usage) / Double($1.limit) }
            ?? points.first
    }
}
