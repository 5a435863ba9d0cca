import Collector
public import Config
import Exposition
import Foundation
import Notify
public import Logging
public import MailGaugeCore
public import Store

/// `mailgauge run`: one pass over every configured account, stored as one run.
public enum RunJob {
    public enum Exit: Int32, Sendable {
        case allProbed = 0
        case someFailed = 1
        case configOrDatabase = 2
        /// Every account failed: monitoring is blind (the server is down, the network or
        /// a shared secret is broken). Stored and exported like any run, but a unit failure.
        case allFailed = 3
    }

    public struct Options: Sendable {
        public var configPath: String
        /// Draw a progress bar on stderr (a terminal); otherwise log one line per account.
        public var progressBar: Bool
        public var retryBackoffSeconds: Double
        /// Overrides `alerts.stdout_format` (text or json).
        public var alertsFormat: AlertLineFormat?
        /// `--shard K/N`: this agent's share, in place of the config's `shard:`.
        public var shard: Shard?
        /// `--all`: probe every account, due or not.
        public var probeAll: Bool

        public init(configPath: String, progressBar: Bool, retryBackoffSeconds: Double = 2, alertsFormat: AlertLineFormat? = nil,
                    shard: Shard? = nil, probeAll: Bool = false) {
            self.configPath = configPath
            self.probeAll = probeAll
            self.shard = shard
            self.alertsFormat = alertsFormat
            self.progressBar = progressBar
            self.retryBackoffSeconds = retryBackoffSeconds
        }
    }

    /// The run's results, for the caller to export or alert on.
    public struct Result: Sendable {
        public var exit: Exit
        public var config: MailGaugeConfig?
        public var summary: RunSummary?
        public var message: String
        /// Alert notices of this run, already formatted for stdout.
        public var alertLines: [String] = []
        /// With `keepState`: the stored state after the pass, folders included (what serve
        /// renders its metrics from).
        public var state: StoredState?
    }

    public static func execute(_ options: Options, logger: Logger) async -> Result {
        var config: MailGaugeConfig
        do {
            let loaded = try ConfigLoader.load(path: options.configPath, shard: options.shard)
            for warning in loaded.warnings { logger.warning("\(warning)") }
            config = loaded.config
        } catch {
            return Result(exit: .configOrDatabase, config: nil, summary: nil, message: "\(error)")
        }
        if let format = options.alertsFormat { config.alerts.stdoutFormat = format }
        return await pass(config: config, progressBar: options.progressBar, retryBackoffSeconds: options.retryBackoffSeconds,
                          probeAll: options.probeAll, logger: logger)
    }

    /// One pass with a loaded config (`run`, and each of `serve`'s passes). Cancelled
    /// before the results are stored, it stores nothing: an abandoned pass leaves the
    /// history as it was.
    public static func pass(config: MailGaugeConfig, progressBar: Bool, retryBackoffSeconds: Double, probeAll: Bool = false,
                            keepState: Bool = false, logger: Logger) async -> Result {
        // The lock comes first: two runs starting together must not both create and
        // migrate the database.
        let lock: RunLock?
        do {
            lock = try RunLock.acquire(databasePath: config.database, waitSeconds: config.lockWaitSeconds)
        } catch {
            return Result(exit: .configOrDatabase, config: config, summary: nil,
                          message: "database \(config.database): cannot create the lock file: \(error)")
        }
        guard let lock else {
            // Documented behaviour: a run that finds another still going does nothing and
            // exits 0, so a slow run plus a timer never double-probes or double-counts.
            return Result(exit: .allProbed, config: config, summary: nil,
                          message: "previous run still in progress (\(config.database).lock is held); this run did nothing")
        }
        defer { withExtendedLifetime(lock) {} }
        let database: AppDatabase
        do {
            database = try AppDatabase(path: config.database)
        } catch {
            return Result(exit: .configOrDatabase, config: config, summary: nil,
                          message: "database \(config.database): \(error)")
        }
        // Last, once alerts are queued and metrics written: the write-ahead log is copied
        // into the database off the pass's path (see AppDatabase.checkpoint).
        defer {
            do {
                try database.checkpoint()
            } catch {
                logger.warning("database checkpoint failed; the next pass tries again", metadata: ["error": "\(error)"])
            }
        }

        let started = Date()
        // Adaptive polling (see ProbeSchedule): the accounts due by their stored schedule,
        // and the cyrus_admin accounts, whose quota is read in bulk first.
        let due: Set<String>
        let dueTimes: [String: Double]
        do {
            dueTimes = try database.probeDueTimes()
            due = Scheduling.due(config, dueTimes: dueTimes, now: started.timeIntervalSince1970, all: probeAll)
        } catch {
            return Result(exit: .configOrDatabase, config: config, summary: nil,
                          message: "database \(config.database): \(error)")
        }
        // The doveadm API's reading first (it needs no IMAP target), when one is due.
        let doveadmAccounts = probeAll ? [] : config.accounts.filter { $0.masterMode == .dovecotDoveadm }
        var bulk = BulkQuotaPass.Result()
        if !doveadmAccounts.isEmpty {
            do {
                bulk = await BulkQuotaPass.readDoveadm(config, accounts: doveadmAccounts, lastRead: try database.bulkReadingTimes(),
                                                       now: started, logger: logger)
            } catch {
                return Result(exit: .configOrDatabase, config: config, summary: nil, message: "database \(config.database): \(error)")
            }
        }
        let bulkIDs = probeAll ? [] : Set(config.accounts.filter { $0.masterMode == .cyrusAdmin }.map(\.id))
        // One set of targets for the pass: one TLS context per server and one secret cache
        // for the bulk reading and the probes alike (an account the bulk reading puts near
        // a threshold is probed now, so each read in bulk has its target).
        let allTargets = Targets.make(config, including: { due.contains($0.id) || bulkIDs.contains($0.id) || bulk.readings[$0.id] != nil })
        let bulkTargets = allTargets.filter { bulkIDs.contains($0.accountID) }
        if !bulkTargets.isEmpty { bulk.merge(await BulkQuotaPass.read(bulkTargets, logger: logger)) }
        let selection = Scheduling.select(config, due: due, dueTimes: dueTimes, bulk: bulk, now: started)
        // Usually every target (a copy of 10,000 is megabytes): filtered only when the bulk
        // reading left some accounts without a folder probe due.
        let targets = allTargets.keeping { selection.probe.contains($0.accountID) }
        MemoryTuning.releaseFreePages()
        let notDue = config.accounts.count - targets.count
        let quotaOnly = selection.quotaOnly
        let progress = Progress(total: targets.count, bar: progressBar)
        let health = ServerHealthRecorder()
        let outcomes = await quotaOnly + RunAll.run(targets, options: Targets.options(config, retryBackoffSeconds: retryBackoffSeconds),
                                        logger: logger, health: health) { outcome in
            progress.record(outcome)
            if !progressBar { log(outcome, logger) }
        }
        progress.finish()
        MemoryTuning.releaseFreePages()
        guard !Task.isCancelled else {
            return Result(exit: .configOrDatabase, config: config, summary: nil, message: "pass abandoned; nothing stored")
        }
        let finished = Date()
        // What the message and exit status need; the outcomes themselves are released once
        // stored (at 10,000 accounts they are most of a pass's memory).
        let probedCount = outcomes.count - quotaOnly.count
        let storedCount = outcomes.count
        let failed = outcomes.compactMap(\.failure)
        let storedIDs = outcomes.map(\.accountID)
        // Every account's state, for alerts and metrics. With metrics (folders included: at
        // 10,000 accounts most of the read) it is read beside the store on a reader
        // connection (a run changes only the accounts it stores, read again after it);
        // for alerts alone, after the store: a smaller read, and memory not held twice.
        let rendersMetrics = keepState || config.metrics.textfile != nil
        let stateBeside = rendersMetrics ? Task { try await database.readStoredState(withFolders: true) } : nil
        let summary: RunSummary
        do {
            summary = try database.record(
                startedAt: started, finishedAt: finished, outcomes: outcomes,
                retention: RetentionPolicy(rawSeconds: config.retention.rawSeconds, hourlySeconds: config.retention.hourlySeconds,
                                           dailySeconds: config.retention.dailySeconds),
                schedule: Scheduling.settings(config), bulkReadings: bulk.sources)
            try database.recordServerHealth(health.result, at: finished)
        } catch {
            stateBeside?.cancel()
            return Result(exit: .configOrDatabase, config: config, summary: nil,
                          message: "database \(config.database): cannot store the run: \(error)")
        }
        var alertLines: [String] = []
        let plan = Notifications.plan(config)
        var state: StoredState
        do {
            if let stateBeside {
                state = try database.storedState(updating: try await stateBeside.value, accounts: storedIDs)
            } else {
                state = try database.storedState(withFolders: false)
            }
            // The stored accounts no longer configured get no notices; a copy of the states
            // (megabytes at 10,000 accounts) only when there are such accounts.
            let configured = Set(config.accounts.map(\.id))
            let notices = try database.evaluateAlerts(states: state.states.keeping { configured.contains($0.id) }, now: finished,
                                                      thresholds: Alerting.thresholds(config), route: plan.router(now: finished))
            if config.alerts.stdout {
                alertLines = StdoutChannel.lines(notices.map { Notice($0, at: finished) }, json: config.alerts.stdoutFormat == .json)
            }
        } catch {
            return Result(exit: .configOrDatabase, config: config, summary: summary,
                          message: "run \(summary.runID) stored, but alert evaluation failed: \(error)")
        }
        // Delivery failures are logged, counted and retried next run; they do not change
        // the run's exit status, which is about probing.
        let deliveries = await OutboxDelivery.deliver(database, plan: plan, now: finished, logger: logger)
        for d in deliveries where d.ok { logger.info("notification delivered", metadata: ["channel": "\(d.channel)"]) }
        if rendersMetrics {
            do {
                try database.refreshNotifications(&state)
            } catch {
                logger.error("metrics: cannot read the notification figures", metadata: ["error": "\(error)"])
            }
        }
        if let path = config.metrics.textfile {
            do {
                try Textfile.write(Metrics.render(state, config: config), to: path)
            } catch {
                logger.error("metrics textfile not written", metadata: ["path": "\(path)", "error": "\(error)"])
                return Result(exit: .configOrDatabase, config: config, summary: summary,
                              message: "run \(summary.runID) stored, but \(error)")
            }
        }
        var byReason: [String: Int] = [:]
        for f in failed { byReason[f.reason.rawValue, default: 0] += 1 }
        let reasons = byReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let seconds = SizeFormat.fixed(finished.timeIntervalSince(started), digits: 1)
        var skipped = notDue > 0 ? " (\(notDue) not due)" : ""
        if bulk.logins > 0 || !bulk.sources.isEmpty {
            let over = [bulk.logins > 0 ? "\(bulk.logins) admin login\(bulk.logins == 1 ? "" : "s")" : nil,
                        bulk.sources.isEmpty ? nil : "the doveadm API"].compactMap { $0 }.joined(separator: " and ")
            skipped += "; quota of \(bulk.readings.count) read over \(over)"
        }
        let message = "run \(summary.runID): \(probedCount) accounts\(skipped), \(failed.count) failed\(reasons.isEmpty ? "" : " (\(reasons))") in \(seconds) s"
        let exit: Exit = failed.isEmpty ? .allProbed : failed.count == storedCount ? .allFailed : .someFailed
        return Result(exit: exit, config: config, summary: summary,
                      message: message, alertLines: alertLines, state: keepState ? state : nil)
    }

    static func log(_ outcome: AccountOutcome, _ logger: Logger) {
        var metadata: Logger.Metadata = [
            "account": "\(outcome.accountID)",
            "duration_seconds": "\(SizeFormat.fixed(outcome.durationSeconds, digits: 3))",
            "attempts": "\(outcome.attempts)",
        ]
        switch outcome.result {
        case .success(let snapshot):
            metadata["outcome"] = "ok"
            metadata["quota_status"] = "\(snapshot.quotaStatus.rawValue)"
            if let storage = snapshot.storage {
                metadata["storage_used_bytes"] = "\(storage.usageInBaseUnits.map(String.init) ?? "unknown")"
                metadata["storage_limit_bytes"] = "\(storage.limitInBaseUnits.map(String.init) ?? "unknown")"
            }
            logger.info("probed", metadata: metadata)
            for alert in snapshot.alerts {
                // RFC 3501 §7.1: the server asked for this to reach a person.
                logger.warning("server alert", metadata: ["account": "\(outcome.accountID)", "alert": "\(DisplayText.line(alert))"])
            }
        case .failure(let failure):
            metadata["outcome"] = "failed"
            metadata["reason"] = "\(failure.reason.rawValue)"
            metadata["error"] = "\(failure.message)"
            logger.warning("probe failed", metadata: metadata)
        }
    }
}
