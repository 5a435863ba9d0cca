import ChildProcess
import ClientNetworking
import Config
import Foundation
import MailGaugeCore

/// Runs `password_command` the way a secret must be run (`ChildProcess`): off Swift's
/// cooperative threads, in its own process group killed at the deadline, its output
/// capped, every inherited descriptor closed, signals at their defaults, and only a
/// minimal environment (no other account's `password_env`). The command text goes to
/// `/bin/sh -s` on stdin, not as an argument: `/proc/PID/cmdline` is readable by every
/// local user. stderr is read and dropped (it could echo the secret).
enum PasswordCommand {
    /// Generous for a password or a token, small enough that a runaway command cannot
    /// fill memory.
    static let maxOutputBytes = 64 * 1024

    static func run(_ command: String, timeoutSeconds: Double) async throws(ProbeFailure) -> String {
        try secret(await ChildProcess.runOnThread(argv, stdin: script(command), environment: ChildProcess.minimalEnvironment(),
                                                  timeoutSeconds: timeoutSeconds, maxOutputBytes: maxOutputBytes),
                   timeoutSeconds: timeoutSeconds)
    }

    /// The same on the calling thread (it blocks).
    static func runBlocking(_ command: String, timeoutSeconds: Double) throws(ProbeFailure) -> String {
        try secret(Result { () throws(ChildProcess.Failure) -> ChildProcess.Output in
            try ChildProcess.run(argv, stdin: script(command), environment: ChildProcess.minimalEnvironment(),
                                 timeoutSeconds: timeoutSeconds, maxOutputBytes: maxOutputBytes)
        }, timeoutSeconds: timeoutSeconds)
    }

    static let argv = ["/bin/sh", "-s"]

    static func script(_ command: String) -> [UInt8] { Array((command + "\n").utf8) }

    /// The first line of its output, or why there is none (never the output itself).
    static func secret(_ result: Result<ChildProcess.Output, ChildProcess.Failure>, timeoutSeconds: Double) throws(ProbeFailure) -> String {
        func failure(_ text: String) -> ProbeFailure { ProbeFailure(reason: .secret, message: "secret: password_command \(text)") }
        let output: ChildProcess.Output
        switch result {
        case .success(let o): output = o
        case .failure(.cannotStart(let why)): throw failure("could not be started (\(why))")
        case .failure(.timedOut): throw failure("did not finish within \(formatSeconds(timeoutSeconds)) (its process group was killed)")
        case .failure(.tooMuchOutput(let n)): throw failure("printed more than \(n / 1024) KiB (its process group was killed)")
        }
        if let signal = output.signal { throw failure("was killed by signal \(signal)") }
        guard output.status == 0 else { throw failure("exited with status \(output.status ?? -1)") }
        let line = Secrets.firstLine(String(decoding: output.stdout, as: UTF8.self))
        guard !line.isEmpty else { throw failure("printed nothing") }
        return line
    }
}

/// Secrets read once per pass: each distinct `password_command` (and file, credential,
/// variable) is resolved once and shared by every account that names it, so master mode
/// runs its command once, not once per user. Lives for one pass only: nothing is kept
/// between passes, and the values never leave memory.
actor SecretCache {
    private var entries: [SecretSource: Task<String, any Error>] = [:]
    private let environment: [String: String]
    private let commandTimeoutSeconds: Double

    init(environment: [String: String], commandTimeoutSeconds: Double) {
        self.environment = environment
        self.commandTimeoutSeconds = commandTimeoutSeconds
    }

    func value(_ source: SecretSource) async throws(ProbeFailure) -> String {
        let task: Task<String, any Error>
        if let existing = entries[source] {
            task = existing
        } else {
            let environment = self.environment, timeout = commandTimeoutSeconds
            task = Task { try await Secrets.resolveAsync(source, environment: environment, commandTimeoutSeconds: timeout) }
            entries[source] = task
        }
        do {
            return try await task.value
        } catch let failure as ProbeFailure {
            throw failure
        } catch {
            throw ProbeFailure(reason: .secret, message: "secret: \(error)")
        }
    }
}
