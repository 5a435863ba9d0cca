/// Every rule of when an account is probed, in one pure place: which accounts a pass
/// probes, which it only stores a bulk quota reading for, when a bulk source is read, and
/// each account's next due time after the pass. `RunJob` asks it before and after the
/// probes, the store only executes its due-time updates, and the schedule simulation
/// (`mailgauge-bench schedule`) replays the same calls: a rule changed here changes all
/// three.
///
/// The rules themselves (headroom, growth, reserve, spacing) are `ProbeSchedule`'s; this
/// is how a pass applies them.
public enum PassPlan {
    /// What the plan needs of one account.
    public struct Account: Sendable, Hashable {
        public var id: String
        public var thresholds: AlertRules.Thresholds
        /// How often a bulk reading sees its quota (Cyrus admin: every pass; doveadm: its
        /// interval); nil when it is not read in bulk.
        public var quotaReadEvery: Double?

        public init(id: String, thresholds: AlertRules.Thresholds, quotaReadEvery: Double? = nil) {
            self.id = id
            self.thresholds = thresholds
            self.quotaReadEvery = quotaReadEvery
        }
    }

    // MARK: - Before the probes

    /// The accounts due by their stored schedule at `now`: every one with `all` (`--all`)
    /// or `policy: fixed`; one never scheduled (new, or never probed) is due.
    public static func due(_ ids: some Sequence<String>, dueTimes: [String: Double], now: Double, options: ProbeSchedule.Options,
                           all: Bool) -> Set<String> {
        Set(ids.lazy.filter { isDue(dueTimes[$0], now: now, options: options, all: all) })
    }

    /// One account's share of `due`.
    public static func isDue(_ dueAt: Double?, now: Double, options: ProbeSchedule.Options, all: Bool = false) -> Bool {
        all || ProbeSchedule.isDue(dueAt, now: now, options: options)
    }

    /// Whether a bulk source last read at `lastRead` is read by a pass at `now`: never read,
    /// or read at least its interval ago (less half a pass: a timer's passes jitter).
    public static func bulkReadingDue(lastRead: Double?, interval: Double, now: Double, options: ProbeSchedule.Options) -> Bool {
        guard let lastRead else { return true }
        return now - lastRead >= interval - options.passIntervalSeconds / 2
    }

    /// What a pass does with each account once the bulk readings are in.
    public struct Selection: Sendable, Hashable {
        /// Probed over IMAP (folders included).
        public var probe: Set<String>
        /// Stored from their bulk reading alone (quota only), sorted.
        public var quotaOnly: [String]

        public init(probe: Set<String>, quotaOnly: [String]) {
            self.probe = probe
            self.quotaOnly = quotaOnly
        }
    }

    /// Probe the due accounts and those a fresh bulk reading puts at or near a threshold
    /// (unless their schedule already probes them spaced); store the other bulk readings
    /// quota-only. A refused reading is stored as nothing: the account keeps its schedule.
    public static func select(_ accounts: [Account], due: Set<String>, dueTimes: [String: Double], readings: [String: BulkQuotaReading],
                              now: Double, options: ProbeSchedule.Options) -> Selection {
        var probe = due
        var quotaOnly: [String] = []
        for account in accounts where !due.contains(account.id) {
            guard case .quota(_, let roots)? = readings[account.id] else { continue }  // refused: its schedule stands
            if probesNow(account, dueAt: dueTimes[account.id], reading: outlooks(roots), now: now, options: options) {
                probe.insert(account.id)
            } else {
                quotaOnly.append(account.id)
            }
        }
        return Selection(probe: probe, quotaOnly: quotaOnly.sorted())
    }

    /// One account not due by its schedule, after a bulk reading: probed now when the
    /// reading puts it at or near a threshold and its schedule would not probe it soon
    /// (`ProbeSchedule.probeNowAfterBulkReading`).
    public static func probesNow(_ account: Account, dueAt: Double?, reading: [ProbeSchedule.Outlook], now: Double,
                                 options: ProbeSchedule.Options) -> Bool {
        atRisk(reading, thresholds: account.thresholds, now: now, options: options)
            && ProbeSchedule.probeNowAfterBulkReading(storedDueAt: dueAt, now: now, quotaReadEvery: account.quotaReadEvery, options: options)
    }

    /// A bulk reading's figures as outlooks: no growth or forecast (a reading has none).
    public static func outlooks(_ roots: [QuotaRootUsage]) -> [ProbeSchedule.Outlook] {
        roots.flatMap { root in
            root.resources.map { ProbeSchedule.Outlook(resource: $0.resource, usage: Double($0.usage), limit: Double($0.limit), growth: .init()) }
        }
    }

    /// At, over or within the reserve of a threshold by these figures alone (a bulk
    /// reading knows no growth; the stored schedule covers that).
    public static func atRisk(_ outlooks: [ProbeSchedule.Outlook], thresholds: AlertRules.Thresholds, now: Double,
                              options: ProbeSchedule.Options) -> Bool {
        let reason = ProbeSchedule.afterSuccess(probedAt: now, outlooks: outlooks, thresholds: thresholds, options: options).reason
        return reason == .overThreshold || reason == .nearThreshold
    }

    // MARK: - After the probes

    /// What a pass learned of an account, for its next due time.
    public enum Reading: Sendable, Hashable {
        /// The probe failed.
        case failed
        /// A probe with folders: its quota's outlooks (growth and forecast as stored).
        case probed([ProbeSchedule.Outlook])
        /// A bulk quota reading without a folder probe.
        case quotaOnly([ProbeSchedule.Outlook])
    }

    /// A due-time change for the store to execute.
    public enum DueUpdate: Sendable, Hashable {
        case set(ProbeSchedule.Decision)
        /// The stored due time stands.
        case keep
    }

    /// The account's next due time after `reading` at `at`: a probe (failed or not) sets
    /// it; a quota-only reading may bring it forward, never push it back (a quiet account
    /// read in bulk every pass would otherwise never be due for its folders).
    public static func dueUpdate(_ reading: Reading, at: Double, storedDueAt: Double?, account: Account,
                                 options: ProbeSchedule.Options) -> DueUpdate {
        switch reading {
        case .failed:
            return .set(ProbeSchedule.afterFailure(probedAt: at, options: options))
        case .probed(let outlooks):
            return .set(afterReading(outlooks, at: at, account: account, options: options))
        case .quotaOnly(let outlooks):
            let decision = afterReading(outlooks, at: at, account: account, options: options)
            return storedDueAt.map { decision.dueAt < $0 } ?? true ? .set(decision) : .keep
        }
    }

    /// The due time a successful reading of these figures asks for: `ProbeSchedule`'s
    /// decision, spaced for an account read in bulk.
    public static func afterReading(_ outlooks: [ProbeSchedule.Outlook], at: Double, account: Account,
                                    options: ProbeSchedule.Options) -> ProbeSchedule.Decision {
        ProbeSchedule.spaced(ProbeSchedule.afterSuccess(probedAt: at, outlooks: outlooks, thresholds: account.thresholds, options: options),
                             probedAt: at, quotaReadEvery: account.quotaReadEvery, options: options)
    }
}

/// One user's quota from a bulk reading (Cyrus `cyrus_admin` GETQUOTA, the doveadm API).
public enum BulkQuotaReading: Sendable, Hashable {
    case quota(QuotaStatus, [QuotaRootUsage])
    /// No usable reading for this user: the server refused (NO; for Cyrus "Quota root does
    /// not exist": no quota, or no mailbox) or answered for another root, or with more than
    /// one; the per-user probe tells what holds.
    case refused(String)
}
