public import Foundation

/// One notice for one account, ready for a channel.
public struct AccountNotice: Sendable, Hashable {
    public var accountID: String
    public var user: String
    public var notice: AlertRules.Notice
    /// The latest figures of the notice's resource (its fullest quota root), or STORAGE's
    /// for probe_failing: what the message shows.
    public var quota: QuotaPoint?
    /// When the notice's resource is forecast to be full, if growing (nil for `full`: it
    /// already is; for probe_failing, the account's earliest).
    public var fullAt: Date?
    /// The latest probe failure message (for probe_failing).
    public var failure: String?

    public init(accountID: String, user: String, notice: AlertRules.Notice, quota: QuotaPoint?, fullAt: Date?, failure: String?) {
        self.accountID = accountID
        self.user = user
        self.notice = notice
        self.quota = quota
        self.fullAt = fullAt
        self.failure = failure
    }
}

/// The alert decision for every account at the end of a run, pure: stored states and the
/// previous alert states in, new alert states and notices out. `Store` loads and saves
/// around it in one transaction.
public enum AlertEvaluation {
    public struct Change: Sendable, Hashable {
        public var accountID: String
        public var key: AlertRules.Key
        public var state: AlertRules.State
    }

    public struct Result: Sendable {
        /// Alert states that differ from the previous ones: to be saved.
        public var changes: [Change]
        /// Per account, in the order of `states`.
        public var notices: [AccountNotice]
    }

    public static func evaluate(states: [AccountState], previous: [String: [AlertRules.Key: AlertRules.State]],
                                thresholds: (String) -> AlertRules.Thresholds, now: Date) -> Result {
        var changes: [Change] = []
        var notices: [AccountNotice] = []
        for state in states {
            let observation = AlertRules.Observation(state)
            let result = AlertRules.evaluate(previous: previous[state.id] ?? [:], observation: observation,
                                             thresholds: thresholds(state.id), now: now)
            for (key, s) in result.states where s != previous[state.id]?[key] {
                changes.append(Change(accountID: state.id, key: key, state: s))
            }
            notices += result.notices.map {
                let resource = $0.key.resource ?? QuotaResourceName.storage
                return AccountNotice(accountID: state.id, user: state.user, notice: $0, quota: state.fullestQuota(resource),
                                     fullAt: fullAt($0.key, observation), failure: state.failureMessage)
            }
        }
        return Result(changes: changes, notices: notices)
    }

    public static func fullAt(_ key: AlertRules.Key, _ o: AlertRules.Observation) -> Date? {
        switch key.rule {
        case .full: nil
        case .probeFailing: o.fullAt.values.min()
        case .warning, .critical, .filling: key.resource.flatMap { o.fullAt[$0] }
        }
    }
}

extension AlertRules.Observation {
    /// What the rules look at in an account's latest stored state: the fullest root per
    /// resource, the earliest full date per resource, failures in a row, STORAGE free bytes.
    public init(_ state: AccountState) {
        self.init(quota: state.quota, forecasts: state.forecasts, consecutiveFailures: state.consecutiveFailures,
                  probeOK: state.lastProbeOK)
    }

    public init(quota: [QuotaPoint], forecasts: [StoredForecast], consecutiveFailures: Int, probeOK: Bool) {
        var fractions: [String: Double] = [:]
        for q in quota where q.limit > 0 {
            fractions[q.resource] = max(fractions[q.resource] ?? 0, Double(q.usage) / Double(q.limit))
        }
        var fullAt: [String: Date] = [:]
        for f in forecasts { if let d = f.fullAt { fullAt[f.resource] = min(fullAt[f.resource] ?? d, d) } }
        let free = quota.first { $0.resource == QuotaResourceName.storage && $0.limit > 0 }
            .map { Double($0.limit > $0.usage ? $0.limit - $0.usage : 0) * 1024 }  // a Double: no overflow
        self.init(fractions: fractions, fullAt: fullAt, consecutiveFailures: consecutiveFailures, probeOK: probeOK, freeBytes: free)
    }
}

extension StoredForecast {
    /// The forecast of one quota resource from its hourly maxima, as stored and shown.
    public static func from(_ points: [Forecast.Point], root: String, resource: String, now: Double,
                            options: Forecast.Options) -> StoredForecast {
        let (fullAt, slope, status): (Double?, Double?, StoredForecast.Status) = switch Forecast.timeToFull(points, now: now, options: options) {
        case .fullAt(let time, let s): (time, s, .filling)
        case .full: (now, nil, .full)
        case .notGrowing(let s): (nil, s, .notGrowing)
        case .insufficientData: (nil, nil, .insufficientData)
        }
        return StoredForecast(root: root, resource: resource, fullAt: fullAt.map(Date.init(timeIntervalSince1970:)),
                              slopePerSecond: slope, status: status)
    }
}
