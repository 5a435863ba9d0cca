/// When to log into an account again: risk-based polling.
///
/// A login costs the IMAP server a process, an authentication and a quota lookup; most
/// mailboxes are nowhere near a threshold and grow by megabytes a day, so looking at them
/// every pass buys nothing. After each probe an account gets a due time: the time its
/// fastest growth in the recent history would take to reach the nearest threshold, times a
/// safety factor, with headroom held back for a jump (a share of the limit, or twice the
/// largest rise in the history, whichever is more),
/// clamped between one pass interval and `maxInterval`. Accounts that are new, failing,
/// over a threshold, forecast to fill within the horizon, or too close to a threshold for
/// the reserve, are due every pass. Pure: the store supplies the history, `run` asks
/// `isDue`.
public enum ProbeSchedule {
    public enum Policy: String, Sendable, Hashable, CaseIterable {
        /// Due time from headroom and growth (the default).
        case adaptive
        /// Every account every pass.
        case fixed
    }

    public struct Options: Sendable, Hashable {
        public var policy: Policy
        /// The timer's interval (`schedule.interval`): the shortest time between two probes.
        public var passIntervalSeconds: Double
        /// The longest an account goes unprobed (`schedule.max_interval`).
        public var maxIntervalSeconds: Double
        /// Probe again after this share of the time the fastest growth seen would take to
        /// reach the next threshold (`schedule.safety_factor`).
        public var safetyFactor: Double
        /// Headroom held back for a jump the history does not predict (an import, a large
        /// attachment), as a share of the limit (`schedule.reserve`).
        public var reserveFraction: Double
        /// Growth assumed at least, as a share of the limit per day: a mailbox that has been
        /// flat for two weeks can still start filling.
        public var minimumGrowthFractionPerDay: Double

        public init(policy: Policy = .adaptive, passIntervalSeconds: Double = 900, maxIntervalSeconds: Double = 86400,
                    safetyFactor: Double = 0.5, reserveFraction: Double = 0.05, minimumGrowthFractionPerDay: Double = 0.01) {
            self.policy = policy
            self.passIntervalSeconds = passIntervalSeconds
            self.maxIntervalSeconds = max(maxIntervalSeconds, passIntervalSeconds)
            self.safetyFactor = safetyFactor
            self.reserveFraction = reserveFraction
            self.minimumGrowthFractionPerDay = minimumGrowthFractionPerDay
        }
    }

    /// What the store needs to decide every probed account's due time.
    public struct Settings: Sendable {
        public var options: Options
        public var thresholds: @Sendable (String) -> AlertRules.Thresholds
        /// How often an account's quota is read in bulk (`dovecot_doveadm`), if it is:
        /// see `spaced`.
        public var quotaReadEvery: @Sendable (String) -> Double?

        public init(options: Options, thresholds: @escaping @Sendable (String) -> AlertRules.Thresholds,
                    quotaReadEvery: @escaping @Sendable (String) -> Double? = { _ in nil }) {
            self.options = options
            self.thresholds = thresholds
            self.quotaReadEvery = quotaReadEvery
        }
    }

    /// One limited quota resource as last seen, in the server's units.
    public struct Outlook: Sendable, Hashable {
        public var resource: String
        public var usage: Double
        public var limit: Double
        /// The fastest growth between two consecutive samples of the recent history
        /// (server units per second; 0 when it never grew).
        public var fastestGrowthPerSecond: Double
        /// The largest rise between two consecutive samples (server units): a jump of that
        /// size may come again, so at least that much headroom is held back.
        public var largestRise: Double
        /// The forecast's full date, when it has one.
        public var forecastFullAt: Double?

        public init(resource: String, usage: Double, limit: Double, growth: Growth, forecastFullAt: Double? = nil) {
            self.resource = resource
            self.usage = usage
            self.limit = limit
            self.fastestGrowthPerSecond = growth.fastestPerSecond
            self.largestRise = growth.largestRise
            self.forecastFullAt = forecastFullAt
        }
    }

    /// Why an account is due when it is; shown by `report`.
    public enum Reason: String, Sendable, Hashable, Codable {
        /// `policy: fixed`.
        case everyPass = "every_pass"
        /// The last probe failed: the retry rules apply, every pass.
        case failing
        /// At or over a threshold, or forecast to fill within the horizon.
        case overThreshold = "over_threshold"
        /// Within the reserve of a threshold.
        case nearThreshold = "near_threshold"
        /// Headroom over growth.
        case headroom
        /// No limit: nothing can fill; looked at every `maxInterval`.
        case unlimited
    }

    public struct Decision: Sendable, Hashable {
        /// Seconds since 1970.
        public var dueAt: Double
        public var reason: Reason

        public init(dueAt: Double, reason: Reason) {
            self.dueAt = dueAt
            self.reason = reason
        }
    }

    /// The next due time after a successful probe at `probedAt`.
    /// `thresholds.minFreeBytes` applies to STORAGE, whose unit is KiB.
    public static func afterSuccess(probedAt: Double, outlooks: [Outlook], thresholds: AlertRules.Thresholds,
                                    options: Options) -> Decision {
        let everyPass = probedAt + options.passIntervalSeconds
        guard options.policy == .adaptive else { return Decision(dueAt: everyPass, reason: .everyPass) }
        let limited = outlooks.filter { $0.limit > 0 }
        guard !limited.isEmpty else { return Decision(dueAt: probedAt + options.maxIntervalSeconds, reason: .unlimited) }
        var wait = options.maxIntervalSeconds
        for o in limited {
            var firstLevel = thresholds.warning * o.limit
            if o.resource == QuotaResourceName.storage, let minFree = thresholds.minFreeBytes {
                firstLevel = min(firstLevel, o.limit - minFree / 1024)
            }
            if o.usage >= firstLevel { return Decision(dueAt: everyPass, reason: .overThreshold) }
            if let full = o.forecastFullAt, full - probedAt < thresholds.forecastHorizonSeconds {
                return Decision(dueAt: everyPass, reason: .overThreshold)
            }
            let headroom = firstLevel - o.usage - max(options.reserveFraction * o.limit, 2 * o.largestRise)
            if headroom <= 0 { return Decision(dueAt: everyPass, reason: .nearThreshold) }
            let growth = max(o.fastestGrowthPerSecond, options.minimumGrowthFractionPerDay * o.limit / 86400)
            wait = min(wait, options.safetyFactor * headroom / growth)
        }
        return Decision(dueAt: probedAt + max(options.passIntervalSeconds, wait), reason: .headroom)
    }

    /// An account whose quota a bulk reading sees every `quotaReadEvery` seconds needs no
    /// folder probe every pass to catch a crossing: the reading catches it. At or near a
    /// threshold it gets its folder probe every `bulkFolderInterval` (two passes, or the
    /// bulk interval when longer) instead of every pass: fresh folder detail while it is
    /// at risk, for half the logins.
    public static func spaced(_ decision: Decision, probedAt: Double, quotaReadEvery: Double?, options: Options) -> Decision {
        guard let every = bulkFolderInterval(quotaReadEvery: quotaReadEvery, options: options),
              decision.reason == .overThreshold || decision.reason == .nearThreshold else { return decision }
        return Decision(dueAt: probedAt + every, reason: decision.reason)
    }

    /// See `spaced`; nil for an account not read in bulk.
    public static func bulkFolderInterval(quotaReadEvery: Double?, options: Options) -> Double? {
        quotaReadEvery.map { max($0, 2 * options.passIntervalSeconds) }
    }

    /// Whether a fresh bulk reading that puts an account at or near a threshold should
    /// have it probed for folders now: only if its schedule did not already know, i.e.
    /// its folder probe is further off than `bulkFolderInterval` (a quiet account that
    /// jumped). One already at risk keeps its spaced folder probes.
    public static func probeNowAfterBulkReading(storedDueAt: Double?, now: Double, quotaReadEvery: Double?, options: Options) -> Bool {
        guard let dueAt = storedDueAt, let every = bulkFolderInterval(quotaReadEvery: quotaReadEvery, options: options) else { return true }
        return dueAt > now + every
    }

    /// After a failed probe: every pass (within a pass, the retry rules apply).
    public static func afterFailure(probedAt: Double, options: Options) -> Decision {
        Decision(dueAt: probedAt + options.passIntervalSeconds, reason: .failing)
    }

    /// Whether an account with this due time is probed by a pass starting at `now`. Never
    /// probed (nil): yes. Half a pass of slack, because a probe happens a little after its
    /// pass starts and the next pass must not miss it for the difference.
    public static func isDue(_ dueAt: Double?, now: Double, options: Options) -> Bool {
        guard options.policy == .adaptive, let dueAt else { return true }
        return dueAt <= now + options.passIntervalSeconds / 2
    }

    /// How a resource grew in its recent history.
    public struct Growth: Sendable, Hashable {
        public var fastestPerSecond: Double
        public var largestRise: Double

        public init(fastestPerSecond: Double = 0, largestRise: Double = 0) {
            self.fastestPerSecond = fastestPerSecond
            self.largestRise = largestRise
        }

        /// From samples sorted by time: the fastest growth and the largest rise between
        /// consecutive ones.
        public init(_ points: [Forecast.Point]) {
            self.init()
            for (a, b) in zip(points, points.dropFirst()) where b.time > a.time && b.usage > a.usage {
                fastestPerSecond = max(fastestPerSecond, (b.usage - a.usage) / (b.time - a.time))
                largestRise = max(largestRise, b.usage - a.usage)
            }
        }
    }
}
