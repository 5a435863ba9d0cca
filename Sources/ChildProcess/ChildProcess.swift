public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started the way mailgauge must start one (`password_command`,
/// `sendmail`): it inherits nothing it has no use for and cannot outlive its deadline.
///
/// - Every descriptor but its stdin, stdout and stderr is closed in the child
///   (`posix_spawn_file_actions_addclosefrom_np`): NIO's sockets, the listening socket,
///   epoll and the IMAP/SMTP connections are not close-on-exec.
/// - Its environment is exactly `environment` (callers pass `minimalEnvironment`): no
///   other account's `password_env` secret.
/// - Every signal back at its default disposition and none blocked (mailgauge ignores
///   SIGPIPE; a child must not).
/// - Its own process group: at the deadline, on too much output, and after it exits, the
///   whole group is killed, not only the direct child.
/// - `stdin` is written within the deadline, interleaved with reading its output, so a
///   child that never reads cannot hold the caller past it.
///
/// Blocking: call it from a thread of its own (`runOnThread`), never the cooperative pool.
/// Chosen over swift-subprocess: this is one function over posix_spawn with the same
/// guarantees, where that package would add a dependency tree for two call sites.
public enum ChildProcess {
    public struct Output: Sendable {
        /// The exit status; nil when a signal ended it (`signal` says which).
        public var status: Int32?
        public var signal: Int32?
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    public enum Failure: Error, Sendable, Equatable {
        case cannotStart(String)
        /// The deadline passed: the whole process group was killed.
        case timedOut
        /// More output than allowed: the whole process group was killed.
        case tooMuchOutput(Int)
    }

    /// What a child sees of the environment: enough to find programs and the systemd
    /// credentials directory, nothing that may hold a secret.
    public static func minimalEnvironment(_ from: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        for key in ["HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "CREDENTIALS_DIRECTORY"] {
            if let value = from[key] { env[key] = value }
        }
        return env
    }

    /// Runs `argv[0]` (an absolute path) with `argv`, `stdin` on its standard input.
    /// `maxOutputBytes` bounds stdout and stderr each.
    public static func run(_ argv: [String], stdin: [UInt8], environment: [String: String], timeoutSeconds: Double,
                           maxOutputBytes: Int) throws(Failure) -> Output {
        guard let path = argv.first else { throw .cannotStart("no program") }
        // A child that closes its stdin early must give us EPIPE, not kill us: SIGPIPE is
        // ignored process-wide (as NIO does for its sockets), and reset in the child.
        _ = signal(SIGPIPE, SIG_IGN)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        // Close-on-exec on our ends: no other child spawned meanwhile may inherit them.
        let pipes = (0..<3).compactMap { _ in Pipe2() }
        guard pipes.count == 3 else {
            for p in pipes { close(p.read); close(p.write) }
            throw .cannotStart("pipe: \(lastError())")
        }
        let (input, output, errors) = (pipes[0], pipes[1], pipes[2])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input.read, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errors.write, 2)
        guard posix_spawn_file_actions_addclosefrom_np(&actions, 3) == 0 else {
            for fd in [input.read, input.write, output.read, output.write, errors.read, errors.write] { close(fd) }
            throw .cannotStart("closefrom: \(lastError())")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t(), none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, cArgs, cEnv)
        // The child's ends are the child's.
        close(input.read)
        close(output.write)
        close(errors.write)
        defer { close(output.read); close(errors.read) }
        guard spawned == 0 else {
            close(input.write)
            throw .cannotStart(String(cString: strerror(spawned)))
        }
        // The group goes at every end: whatever the child left running has no business
        // outliving it (after a normal exit too).
        var reaped = false
        var waitStatus: Int32 = 0
        defer {
            kill(-pid, SIGKILL)
            if !reaped { while waitpid(pid, &waitStatus, 0) == -1 && errno == EINTR {} }
        }

        var pending = stdin[...]
        var writeEnd: Int32? = input.write
        _ = fcntl(input.write, F_SETFL, fcntl(input.write, F_GETFL) | O_NONBLOCK)
        if pending.isEmpty { close(input.write); writeEnd = nil }
        defer { if let fd = writeEnd { close(fd) } }
        var out: [UInt8] = [], err: [UInt8] = []
        var open: Set<Int32> = [output.read, errors.read]
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while !open.isEmpty || writeEnd != nil {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw .timedOut }
            var fds = open.sorted().map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if let fd = writeEnd { fds.append(pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000, 1000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            for p in fds where p.revents != 0 {
                if p.fd == writeEnd {
                    let n = pending.withUnsafeBytes { write(p.fd, $0.baseAddress, $0.count) }
                    if n > 0 { pending = pending.dropFirst(n) }
                    // Done, or the child closed its stdin (EPIPE: SIGPIPE is ignored above).
                    if pending.isEmpty || (n < 0 && errno != EAGAIN && errno != EINTR) {
                        close(p.fd)
                        writeEnd = nil
                    }
                    continue
                }
                let n = chunk.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                guard n > 0 else { open.remove(p.fd); continue }  // EOF
                if p.fd == output.read { out += chunk[0..<n] } else { err += chunk[0..<n] }
                guard out.count <= maxOutputBytes, err.count <= maxOutputBytes else { throw .tooMuchOutput(maxOutputBytes) }
            }
        }
        while true {
            let r = waitpid(pid, &waitStatus, WNOHANG)
            if r == pid { reaped = true; break }
            if r == -1 && errno != EINTR { throw .cannotStart("could not be waited for: \(lastError())") }
            guard deadline.timeIntervalSinceNow > 0 else { throw .timedOut }
            usleep(5_000)
        }
        let signalled = waitStatus & 0x7f
        return Output(status: signalled == 0 ? (waitStatus >> 8) & 0xff : nil, signal: signalled == 0 ? nil : signalled,
                      stdout: out, stderr: err)
    }

    /// `run` on a thread of its own (the wait blocks): a silent child must not hold one
    /// of the cooperative pool's threads (two, on a 2-core machine).
    public static func runOnThread(_ argv: [String], stdin: [UInt8], environment: [String: String], timeoutSeconds: Double,
                                   maxOutputBytes: Int) async -> Result<Output, Failure> {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(Failure) -> Output in
                    try run(argv, stdin: stdin, environment: environment, timeoutSeconds: timeoutSeconds, maxOutputBytes: maxOutputBytes)
                })
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

/// A pipe whose two ends are close-on-exec (the child gets its end through dup2).
private struct Pipe2 {
    let read: Int32, write: Int32

    init?() {
        var fds: [Int32] = [-1, -1]
        guard fds.withUnsafeMutableBufferPointer({ linuxPipe2($0.baseAddress!, O_CLOEXEC) }) == 0 else { return nil }
        (read, write) = (fds[0], fds[1])
    }
}

/// pipe2(2): Glibc's module exports it only under _GNU_SOURCE.
@_silgen_name("pipe2")
private func linuxPipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

/// posix_spawn_file_actions_addclosefrom_np(3) (glibc 2.34): not in Glibc's module map.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func posix_spawn_file_actions_addclosefrom_np(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
