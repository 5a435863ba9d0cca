import Foundation
import Synchronization
import IMAPClient
import ClientNetworking
import IMAPCore
public import Logging
public import MailGaugeCore

/// Probes many accounts: bounded concurrency overall and per server, one retry with
/// backoff for transient failures, slower pacing on [LIMIT]; each account's failure is
/// recorded and classified and never stops the others.
public enum RunAll {
    /// `onOutcome` sees each outcome as its probe ends, from the worker that ran it (so
    /// from several threads at once).
    public static func run(_ targets: [ProbeTarget], options: RunOptions, logger: Logger, health: ServerHealthRecorder? = nil,
                           onOutcome: @escaping @Sendable (AccountOutcome) -> Void = { _ in }) async -> [AccountOutcome] {
        let gate = ConnectionGate(widths: options.maxConnections)
        // `concurrency` workers, each living on one event loop (its connections' loop, see
        // EventLoopAffinity), take the next target when their probe ends. A task per
        // account, started by a parent on the cooperative pool, cost two cross-thread
        // wake-ups per account (the parent woken by each child's end, the loop by each
        // new child).
        let loops = EventLoopAffinity.loops()
        let queue = TargetQueue(targets)
        let collected = OutcomeCollector(capacity: targets.count)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<min(max(1, options.concurrency), targets.count) {
                let loop = loops[worker % loops.count]
                group.addTask {
                    await EventLoopAffinity.run(on: loop) {
                        while let target = queue.next() {
                            let outcome = await probeWithRetry(target, options: options, gate: gate, logger: logger, health: health)
                            onOutcome(outcome)
                            collected.add(outcome)
                        }
                    }
                }
            }
        }
        return collected.takeAll()
    }

    static func probeWithRetry(_ target: ProbeTarget, options: RunOptions, gate: ConnectionGate, logger: Logger,
                               health: ServerHealthRecorder? = nil) async -> AccountOutcome {
        let started = Date()
        let clock = ContinuousClock()
        let begin = clock.now
        var attempts = 0
        var result: Result<MailboxSnapshot, ProbeFailure>
        var accountLogger = logger
        accountLogger[metadataKey: "account"] = "\(target.accountID)"
        let logger = accountLogger
        repeat {
            attempts += 1
            result = await Deadline.run(seconds: options.accountTimeoutSeconds - secondsSince(begin, clock)) {
                await probeOnce(target, gate: gate, logger: logger, health: health)
            } ?? .failure(Task.isCancelled
                ? ProbeFailure(reason: .timeout, message: "cancelled: the run was stopped")
                : ProbeFailure(reason: .timeout, message: "timeout: probe took longer than \(Int(options.accountTimeoutSeconds))s",
                               isTransient: true))
            guard case .failure(let failure) = result, attempts == 1, failure.isTransient else { break }
            let limited = failure.isRateLimited
            if limited { await gate.narrow(target.serverName) }
            let wait = options.retryBackoffSeconds * (limited ? 3 : 1) * Double.random(in: 0.8...1.2)
            guard secondsSince(begin, clock) + wait < options.accountTimeoutSeconds else { break }
            logger.info("transient failure, retrying", metadata: ["reason": "\(failure.reason.rawValue)", "wait_seconds": "\(wait)"])
            try? await Task.sleep(for: .seconds(wait))
        } while true
        return AccountOutcome(accountID: target.accountID, user: target.user, server: target.serverName, at: started,
                              durationSeconds: secondsSince(begin, clock), result: result, attempts: attempts)
    }

    static func probeOnce(_ target: ProbeTarget, gate: ConnectionGate, logger: Logger,
                          health: ServerHealthRecorder? = nil) async -> Result<MailboxSnapshot, ProbeFailure> {
        if let failure = target.setupFailure { return .failure(failure) }
        let secret: String
        do {
            secret = try await target.secret()
        } catch {
            return .failure(error)
        }
        let prober = Prober(connection: target.connection,
                            credentials: Credentials(user: target.loginUser, secret: secret, mechanism: target.mechanism,
                                                     authorizationID: target.authorizationID),
                            forcedMethod: target.forcedMethod, maxFolders: target.maxFolders, logger: logger)
        await gate.acquire(target.serverName)
        let result: Result<MailboxSnapshot, ProbeFailure>
        do {
            var snapshot = try await prober.probe()
            // A run keeps every outcome until it stores them, and stores no capabilities:
            // thirty-odd strings per account were megabytes at 10,000 accounts.
            // The server's facts go to the pass's tally, not into every account's outcome.
            snapshot.capabilities = []
            if let facts = snapshot.connection { health?.add(server: target.serverName, facts) }
            snapshot.connection = nil
            result = .success(snapshot)
        } catch {
            let failure = ProbeFailure.classify(error)
            if failure.reason == .tls {
                health?.addTLSFailure(server: target.serverName, endpoint: "\(target.connection.host):\(target.connection.port)",
                                      message: failure.message)
            }
            result = .failure(failure)
        }
        await gate.release(target.serverName)
        return result
    }

    static func secondsSince(_ start: ContinuousClock.Instant, _ clock: ContinuousClock) -> Double {
        let d = start.duration(to: clock.now)
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// The targets of a run, handed out one at a time to its workers.
final class TargetQueue: Sendable {
    private let targets: [ProbeTarget]
    private let nextIndex = Mutex(0)

    init(_ targets: [ProbeTarget]) { self.targets = targets }

    func next() -> ProbeTarget? {
        let index = nextIndex.withLock { index in
            defer { index += 1 }
            return index
        }
        return index < targets.count ? targets[index] : nil
    }
}

/// The outcomes of a run's workers, in the order they ended, in one array sized once
/// (10,000 held outcomes are megabytes: no per-worker arrays to merge).
final class OutcomeCollector: Sendable {
    private let collected: Mutex<[AccountOutcome]>

    init(capacity: Int) {
        var outcomes: [AccountOutcome] = []
        outcomes.reserveCapacity(capacity)
        collected = Mutex(outcomes)
    }

    func add(_ outcome: AccountOutcome) { collected.withLock { $0.append(outcome) } }

    /// Every outcome, moved out (not copied): called once, after the workers ended.
    func takeAll() -> [AccountOutcome] {
        collected.withLock { outcomes in
            defer { outcomes = [] }
            return outcomes
        }
    }
}

/// The pass's server health tally, fed by concurrent probes.
public final class ServerHealthRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var tally = ServerHealthTally()

    public init() {}

    func add(server: String, _ facts: ConnectionFacts) {
        lock.withLock { tally.add(server: server, facts) }
    }

    func addTLSFailure(server: String, endpoint: String, message: String) {
        lock.withLock { tally.addTLSFailure(server: server, endpoint: endpoint, message: message) }
    }

    public var result: ServerHealthTally { lock.withLock { tally } }
}
