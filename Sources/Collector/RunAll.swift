import Foundation
public import IMAPClient
import IMAPCore
public import Logging
public import MailGaugeCore

/// One account to probe in a run, with everything resolved but the secret, which is read
/// only when its turn comes (and then only held in memory for the login).
public struct ProbeTarget: Sendable {
    public var accountID: String
    public var user: String
    public var serverName: String
    public var connection: ConnectionConfiguration
    public var loginUser: String
    public var authorizationID: String?
    public var mechanism: Credentials.Mechanism
    public var forcedMethod: FolderMethod?
    /// Folders the account may list before the server is cut off.
    public var maxFolders: Int
    /// Set when the pass could not prepare this account's server (its TLS context): the
    /// account fails with it at once, without connecting.
    public var setupFailure: ProbeFailure?
    public var secret: @Sendable () async throws(ProbeFailure) -> String

    public init(accountID: String, user: String, serverName: String, connection: ConnectionConfiguration, loginUser: String,
                authorizationID: String?, mechanism: Credentials.Mechanism, forcedMethod: FolderMethod?,
                maxFolders: Int = Prober.defaultMaxFolders, setupFailure: ProbeFailure? = nil,
                secret: @escaping @Sendable () async throws(ProbeFailure) -> String) {
        self.accountID = accountID
        self.user = user
        self.serverName = serverName
        self.connection = connection
        self.loginUser = loginUser
        self.authorizationID = authorizationID
        self.mechanism = mechanism
        self.forcedMethod = forcedMethod
        self.maxFolders = maxFolders
        self.setupFailure = setupFailure
        self.secret = secret
    }
}

public struct RunOptions: Sendable {
    /// Accounts probed at once.
    public var concurrency: Int
    /// Connections per server at once, by server name.
    public var maxConnections: [String: Int]
    /// Longest a whole probe (all attempts) of one account may take.
    public var accountTimeoutSeconds: Double
    /// Wait before the one retry of a transient failure.
    public var retryBackoffSeconds: Double

    public init(concurrency: Int, maxConnections: [String: Int], accountTimeoutSeconds: Double, retryBackoffSeconds: Double = 2) {
        self.concurrency = concurrency
        self.maxConnections = maxConnections
        self.accountTimeoutSeconds = accountTimeoutSeconds
        self.retryBackoffSeconds = retryBackoffSeconds
    }
}

/// Probes many accounts: bounded concurrency overall and per server, one retry with
/// backoff for transient failures, slower pacing on [LIMIT]; each account's failure is
/// recorded and classified and never stops the others.
public enum RunAll {
    public static func run(_ targets: [ProbeTarget], options: RunOptions, logger: Logger,
                           onOutcome: @escaping @Sendable (AccountOutcome) -> Void = { _ in }) async -> [AccountOutcome] {
        let gate = ConnectionGate(widths: options.maxConnections)
        return await withTaskGroup(of: AccountOutcome.self) { group in
            var outcomes: [AccountOutcome] = []
            outcomes.reserveCapacity(targets.count)
            var pending = targets[...]
            func startNext() {
                guard let target = pending.popFirst() else { return }
                group.addTask { await probeWithRetry(target, options: options, gate: gate, logger: logger) }
            }
            for _ in 0..<max(1, options.concurrency) { startNext() }
            for await outcome in group {
                onOutcome(outcome)
                outcomes.append(outcome)
                startNext()
            }
            return outcomes
        }
    }

    static func probeWithRetry(_ target: ProbeTarget, options: RunOptions, gate: ConnectionGate, logger: Logger) async -> AccountOutcome {
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
                await probeOnce(target, gate: gate, logger: logger)
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

    static func probeOnce(_ target: ProbeTarget, gate: ConnectionGate, logger: Logger) async -> Result<MailboxSnapshot, ProbeFailure> {
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
            result = .success(try await prober.probe())
        } catch {
            result = .failure(ProbeFailure.classify(error))
        }
        await gate.release(target.serverName)
        return result
    }

    static func secondsSince(_ start: ContinuousClock.Instant, _ clock: ContinuousClock) -> Double {
        let d = start.duration(to: clock.now)
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

extension ProbeFailure {
    /// Maps client and plan errors to the failure classes stored and exported.
    public static func classify(_ error: any Error) -> ProbeFailure {
        if let e = error as? ProbeFailure { return e }
        if let e = error as? IMAPClientError {
            let reason: FailureReason = switch e.failureClass {
            case .dns: .dns
            case .connect: .connect
            case .tls: .tls
            case .auth: .auth
            case .timeout: .timeout
            case .protocol: .protocol
            }
            // Server text inside (replies, folder names): escaped once, here, for every output.
            return ProbeFailure(reason: reason, message: DisplayText.line(e.description, maxCharacters: 1000),
                                isTransient: e.isTransient, isRateLimited: e.isRateLimited)
        }
        if let e = error as? ProbePlan.PlanError { return ProbeFailure(reason: .protocol, message: e.description) }
        return ProbeFailure(reason: .protocol, message: "\(error)")
    }
}

/// Per-server connection slots. On `[LIMIT]` a server's width is halved for the rest of
/// the run: the server said we are too many.
actor ConnectionGate {
    private var widths: [String: Int]
    private var inUse: [String: Int] = [:]
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(widths: [String: Int]) {
        self.widths = widths
    }

    func acquire(_ server: String) async {
        let width = widths[server] ?? 8
        if inUse[server, default: 0] < width {
            inUse[server, default: 0] += 1
            return
        }
        await withCheckedContinuation { waiters[server, default: []].append($0) }
    }

    func release(_ server: String) {
        if var queue = waiters[server], !queue.isEmpty, inUse[server, default: 0] <= widths[server] ?? 8 {
            let next = queue.removeFirst()
            waiters[server] = queue
            next.resume()  // the slot passes to the waiter
        } else {
            inUse[server, default: 0] -= 1
        }
    }

    func narrow(_ server: String) {
        widths[server] = max(1, (widths[server] ?? 8) / 2)
    }
}

/// Runs `body`, or gives nil once `seconds` have passed (the body is cancelled, which
/// closes its connection).
public enum Deadline {
    public static func run<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
        guard seconds > 0 else { return nil }
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
