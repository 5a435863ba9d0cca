import ClientNetworking
import Config
import Foundation
import MailGaugeCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs `password_command` the way a secret must be run: in its own process group, off
/// Swift's cooperative threads (a silent command must not hold one of two cores' worth
/// of them), with a real deadline after which the whole group is killed, and with its
/// output capped. stdin and stderr go to /dev/null (stderr could echo the secret).
enum PasswordCommand {
    /// Generous for a password or a token, small enough that a runaway command cannot
    /// fill memory.
    static let maxOutputBytes = 64 * 1024

    static func run(_ command: String, timeoutSeconds: Double) async throws(ProbeFailure) -> String {
        let result: Result<String, ProbeFailure> = await withCheckedContinuation { continuation in
            // A dedicated thread, not the cooperative pool: the wait below blocks.
            let thread = Thread {
                continuation.resume(returning: Result { () throws(ProbeFailure) -> String in
                    try runBlocking(command, timeoutSeconds: timeoutSeconds)
                })
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        return try result.get()
    }

    static func runBlocking(_ command: String, timeoutSeconds: Double) throws(ProbeFailure) -> String {
        func failure(_ text: String) -> ProbeFailure { ProbeFailure(reason: .secret, message: "secret: password_command \(text)") }
        var fds: [Int32] = [-1, -1]
        // Close-on-exec: no other child spawned meanwhile may inherit the secret's pipe.
        guard fds.withUnsafeMutableBufferPointer({ linuxPipe2($0.baseAddress!, O_CLOEXEC) }) == 0 else { throw failure("could not be started (pipe)") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group (pgid = its pid), so the deadline kills what it started too.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { for p in argv { free(p) } }
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        close(writeEnd)
        defer { close(readEnd) }
        guard spawned == 0 else { throw failure("could not be started") }

        let deadline = Date().addingTimeInterval(timeoutSeconds)
        /// Kills the whole group and reaps the command; the failure to throw.
        func killGroup(_ why: String) -> ProbeFailure {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            return failure("\(why) (its process group was killed)")
        }
        let overdue = "did not finish within \(formatSeconds(timeoutSeconds))"
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        readLoop: while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw killGroup(overdue) }
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining * 1000, 1000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break readLoop }  // EOF (or error): wait for the exit below
            output.append(contentsOf: chunk[0..<n])
            guard output.count <= maxOutputBytes else { throw killGroup("printed more than \(maxOutputBytes / 1024) KiB") }
        }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r == -1 && errno != EINTR { throw failure("could not be waited for") }
            guard deadline.timeIntervalSinceNow > 0 else { throw killGroup(overdue) }
            usleep(5_000)
        }
        // Whatever it left running in its group has no business outliving it.
        kill(-pid, SIGKILL)
        let exited = status & 0x7f == 0
        guard exited else { throw failure("was killed by signal \(status & 0x7f)") }
        let code = (status >> 8) & 0xff
        guard code == 0 else { throw failure("exited with status \(code)") }
        let line = Secrets.firstLine(String(decoding: output, as: UTF8.self))
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

/// pipe2(2): Glibc's module exports it only under _GNU_SOURCE.
@_silgen_name("pipe2")
private func linuxPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32
