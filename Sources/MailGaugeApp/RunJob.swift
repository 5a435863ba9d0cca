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

    /// One pass with a loaded config (`run`, and each of `serve`'s passes), in phases:
    /// select (what is due, bulk readings, `PassPlan`), probe, record, alert and deliver,
    /// export, summarise. Cancelled before the results are stored, it stores nothing: an
    /// abandoned pass leaves the history as it was.
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
            return Result(exit: .configOrDatabase, config: config, summary: nil, message: "database \(config.database): \(error)")
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
        let selected: Selected
        do {
            selected = try await select(config, database: database, started: started, probeAll: probeAll, logger: logger)
        } catch {
            return Result(exit: .configOrDatabase, config: config, summary: nil, message: "database \(config.database): \(error)")
        }
        var probed = await probe(selected, config: config, progressBar: progressBar, retryBackoffSeconds: retryBackoffSeconds, logger: logger)
        guard !Task.isCancelled else {
            return Result(exit: .configOrDatabase, config: config, summary: nil, message: "pass abandoned; nothing stored")
        }
        let finished = Date()
        let tally = Tally(probed.outcomes, quotaOnly: selected.quotaOnly.count, notDue: selected.notDue, bulk: selected.bulk)
        // Every account's state, for alerts and metrics. With metrics (folders included: at
        // 10,000 accounts most of the read) it is read beside the store on a reader
        // connection (a run changes only the accounts it stores, read again after it);
        // for alerts alone, after the store: a smaller read, and memory not held twice.
        let rendersMetrics = keepState || config.metrics.textfile != nil
        let stateBeside = rendersMetrics ? Task { try await database.readStoredState(withFolders: true) } : nil
        let summary: RunSummary
        do {
            summary = try record(probed, bulk: selected.bulk, config: config, database: database, started: started, finished: finished)
            probed.outcomes = []  // stored: released before the states are read (most of a pass's memory at 10,000 accounts)
        } catch {
            stateBeside?.cancel()
            return Result(exit: .configOrDatabase, config: config, summary: nil, message: "database \(config.database): cannot store the run: \(error)")
        }
        var state: StoredState
        let alertLines: [String]
        do {
            if let stateBeside {
                state = try database.storedState(updating: try await stateBeside.value, accounts: tally.storedIDs)
            } else {
                state = try database.storedState(withFolders: false)
            }
            alertLines = try await alertAndDeliver(state, config: config, database: database, finished: finished, logger: logger)
        } catch {
            return Result(exit: .configOrDatabase, config: config, summary: summary,
                          message: "run \(summary.runID) stored, but alert evaluation failed: \(error)")
        }
        if rendersMetrics {
            do {
                try database.refreshNotifications(&state)
            } catch {
                logger.error("metrics: cannot read the notification figures", metadata: ["error": "\(error)"])
            }
        }
        if let failure = export(state, config: config, logger: logger) {
            return Result(exit: .configOrDatabase, config: config, summary: summary, message: "run \(summary.runID) stored, but \(failure)")
        }
        return Result(exit: tally.exit, config: config, summary: summary, message: tally.message(summary, seconds: finished.timeIntervalSince(started)),
                      alertLines: alertLines, state: keepState ? state : nil)
    }

    // MARK: - Phases

    /// What the pass probes and what it stores from bulk readings alone.
    struct Selected {
        var targets: [ProbeTarget]
        var quotaOnly: [AccountOutcome]
        var bulk: BulkQuotaPass.Result
        var notDue: Int
    }

    /// Adaptive polling (`PassPlan`): the accounts due by their stored schedule, the bulk
    /// readings (the doveadm API when its interval has passed; Cyrus admin every pass), and
    /// what the readings add or leave quota-only.
    static func select(_ config: MailGaugeConfig, database: AppDatabase, started: Date, probeAll: Bool,
                       logger: Logger) async throws -> Selected {
        let dueTimes = try database.probeDueTimes()
        let due = Scheduling.due(config, dueTimes: dueTimes, now: started.timeIntervalSince1970, all: probeAll)
        // The doveadm API's reading first (it needs no IMAP target), when one is due.
        let doveadmAccounts = probeAll ? [] : config.accounts.filter { $0.masterMode == .dovecotDoveadm }
        var bulk = BulkQuotaPass.Result()
        if !doveadmAccounts.isEmpty {
            bulk = await BulkQuotaPass.readDoveadm(config, accounts: doveadmAccounts, lastRead: try database.bulkReadingTimes(),
                                                   now: started, logger: logger)
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
        return Selected(targets: targets, quotaOnly: selection.quotaOnly, bulk: bulk, notDue: config.accounts.count - targets.count)
    }

    struct Probed {
        var outcomes: [AccountOutcome]
        var health: ServerHealthRecorder
    }

    /// The probes, the quota-only outcomes before them; progress on a terminal, a log line
    /// per account otherwise.
    static func probe(_ selected: Selected, config: MailGaugeConfig, progressBar: Bool, retryBackoffSeconds: Double,
                      logger: Logger) async -> Probed {
        let progress = Progress(total: selected.targets.count, bar: progressBar)
        let health = ServerHealthRecorder()
        let outcomes = await selected.quotaOnly + RunAll.run(selected.targets, options: Targets.options(config, retryBackoffSeconds: retryBackoffSeconds),
                                                             logger: logger, health: health) { outcome in
            progress.record(outcome)
            if !progressBar { log(outcome, logger) }
        }
        progress.finish()
        MemoryTuning.releaseFreePages()
        return Probed(outcomes: outcomes, health: health)
    }

    /// The run in one transaction (samples, series, forecasts, due times, bulk reading
    /// times), then the servers' health.
    static func record(_ probed: Probed, bulk: BulkQuotaPass.Result, config: MailGaugeConfig, database: AppDatabase,
                       started: Date, finished: Date) throws -> RunSummary {
        let summary = try database.record(
            startedAt: started, finishedAt: finished, outcomes: probed.outcomes,
            retention: RetentionPolicy(rawSeconds: config.retention.rawSeconds, hourlySeconds: config.retention.hourlySeconds,
                                       dailySeconds: config.retention.dailySeconds),
            schedule: Scheduling.settings(config), bulkReadings: bulk.sources)
        try database.recordServerHealth(probed.health.result, at: finished)
        return summary
    }

    /// Alert evaluation over the configured accounts' states (notices queued in the same
    /// transaction), then delivery of the outbox. Delivery failures are logged, counted and
    /// retried next run; they do not change the exit status, which is about probing.
    /// Returns the stdout lines.
    static func alertAndDeliver(_ state: StoredState, config: MailGaugeConfig, database: AppDatabase, finished: Date,
                                logger: Logger) async throws -> [String] {
        let plan = Notifications.plan(config)
        // The stored accounts no longer configured get no notices; a copy of the states
        // (megabytes at 10,000 accounts) only when there are such accounts.
        let configured = Set(config.accounts.map(\.id))
        let notices = try database.evaluateAlerts(states: state.states.keeping { configured.contains($0.id) }, now: finished,
                                                  thresholds: Alerting.thresholds(config), route: plan.router(now: finished))
        let lines = config.alerts.stdout
            ? StdoutChannel.lines(notices.map { Notice($0, at: finished) }, json: config.alerts.stdoutFormat == .json) : []
        let deliveries = await OutboxDelivery.deliver(database, plan: plan, now: finished, logger: logger)
        for d in deliveries where d.ok { logger.info("notification delivered", metadata: ["channel": "\(d.channel)"]) }
        return lines
    }

    /// The textfile, when configured; the reason it could not be written otherwise.
    static func export(_ state: StoredState, config: MailGaugeConfig, logger: Logger) -> String? {
        guard let path = config.metrics.textfile else { return nil }
        do {
            try Textfile.write(Metrics.render(state, config: config), to: path)
            return nil
        } catch {
            logger.error("metrics textfile not written", metadata: ["path": "\(path)", "error": "\(error)"])
            return "\(error)"
        }
    }

    /// What the message and exit status need, taken before the outcomes are stored and
    /// released (at 10,000 accounts they are most of a pass's memory).
    struct Tally {
        var probed: Int
        var stored: Int
        var failed: [ProbeFailure]
        var storedIDs: [String]
        var notDue: Int
        var bulk: (logins: Int, sources: Int, readings: Int)

        init(_ outcomes: [AccountOutcome], quotaOnly: Int, notDue: Int, bulk: BulkQuotaPass.Result) {
            probed = outcomes.count - quotaOnly
            stored = outcomes.count
            failed = outcomes.compactMap(\.failure)
            storedIDs = outcomes.map(\.accountID)
            self.notDue = notDue
            self.bulk = (bulk.logins, bulk.sources.count, bulk.readings.count)
        }

        var exit: Exit { failed.isEmpty ? .allProbed : failed.count == stored ? .allFailed : .someFailed }

        /// "run 12: 180 accounts (20 not due), 2 failed (auth 1, timeout 1) in 3.2 s".
        func message(_ summary: RunSummary, seconds: Double) -> String {
            var byReason: [String: Int] = [:]
            for f in failed { byReason[f.reason.rawValue, default: 0] += 1 }
            let reasons = byReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            var skipped = notDue > 0 ? " (\(notDue) not due)" : ""
            if bulk.logins > 0 || bulk.sources > 0 {
                let over = [bulk.logins > 0 ? "\(bulk.logins) admin login\(bulk.logins == 1 ? "" : "s")" : nil,
                            bulk.sources == 0 ? nil : "the doveadm API"].compactMap { $0 }.joined(separator: " and ")
                skipped += "; quota of \(bulk.readings) read over \(over)"
            }
            return "run \(summary.runID): \(probed) accounts\(skipped), \(failed.count) failed\(reasons.isEmpty ? "" : " (\(reasons))") "
                + "in \(SizeFormat.fixed(seconds, digits: 1)) s"
        }
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
