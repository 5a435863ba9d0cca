import Config
import Foundation
@testable import MailGaugeApp
import MailGaugeCore
import Synchronization
import Testing

/// `password_command` under a real deadline, in its own process group, output capped,
/// and run once per pass however many accounts name it.
@Suite("password_command")
struct PasswordCommandTests {
    func failure(_ command: String, timeout: Double = 1) async -> ProbeFailure? {
        do {
            _ = try await PasswordCommand.run(command, timeoutSeconds: timeout)
            return nil
        } catch {
            return error
        }
    }

    @Test("first line of stdout; CRLF endings; stderr ignored")
    func firstLine() async throws {
        let value = try await PasswordCommand.run("printf 'sekret\\r\\nsecond\\r\\n'; echo noise >&2", timeoutSeconds: 5)
        #expect(value == "sekret", "\(Array(value.utf8))")
    }

    @Test("a silent command is killed with its whole process group at the deadline")
    func silentCommand() async throws {
        let marker = "mg-pwcmd-\(UUID().uuidString.prefix(8))"
        let started = Date()
        // A grandchild that would outlive the shell if only the shell were killed.
        let failure = await failure("sh -c 'sleep 300; : \(marker)' & wait", timeout: 1)
        #expect(failure?.message.contains("did not finish within 1s") == true, "\(String(describing: failure))")
        #expect(Date().timeIntervalSince(started) < 20)
        try await Task.sleep(for: .milliseconds(200))
        let survivors = pgrep(marker)
        #expect(survivors.isEmpty, "process left behind: \(survivors)")
    }

    @Test("a command whose child keeps stdout open is bounded by the deadline too")
    func childHoldsPipe() async throws {
        let failure = await failure("echo pw; sleep 300 &", timeout: 1)
        // The shell exits at once with the line printed: a secret, not a hang.
        #expect(failure == nil || failure?.message.contains("did not finish") == true)
    }

    @Test("output is capped; exit status and empty output are errors naming only the command")
    func capsAndStatus() async throws {
        #expect(await failure("yes", timeout: 5)?.message.contains("printed more than 64 KiB") == true)
        #expect(await failure("exit 3")?.message == "secret: password_command exited with status 3")
        #expect(await failure("true")?.message == "secret: password_command printed nothing")
    }

    @Test("the cooperative pool stays free while commands wait")
    func offThePool() async throws {
        // More waiting commands than this machine has cores: if each held a cooperative
        // thread, the sleeping task below could not run until they ended, and they end only
        // when it opens the gate (or at their 30 s deadline). Order, not elapsed time, is
        // checked, so a loaded machine cannot fail it.
        let gate = FileManager.default.temporaryDirectory.appendingPathComponent("mg-gate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: gate) }
        let finished = FinishedCommands()
        async let waits: [ProbeFailure?] = withTaskGroup(of: ProbeFailure?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let result = await failure("while [ ! -e \(gate.path) ]; do sleep 0.1; done", timeout: 30)
                    finished.count.withLock { $0 += 1 }
                    return result
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        try await Task.sleep(for: .milliseconds(300))
        let finishedBeforeTheGate = finished.count.withLock { $0 }
        FileManager.default.createFile(atPath: gate.path, contents: nil)
        #expect(finishedBeforeTheGate == 0, "the sleeping task ran only after commands ended")
        // Each printed nothing: an error, not a hang.
        #expect(await waits.allSatisfy { $0?.message == "secret: password_command printed nothing" })
    }

    @Test("one run per distinct command per pass")
    func oncePerPass() async throws {
        let counter = FileManager.default.temporaryDirectory.appendingPathComponent("mg-count-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: counter) }
        let cache = SecretCache(environment: [:], commandTimeoutSeconds: 5)
        let source = SecretSource.command("echo run >> \(counter.path); echo master-pw")
        let values = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<20 { group.addTask { try? await cache.value(source) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values.allSatisfy { $0 == "master-pw" })
        #expect(try String(contentsOf: counter, encoding: .utf8) == "run\n")
    }

    func pgrep(_ pattern: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        process.arguments = ["-f", pattern]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite("secret files")
struct SecretFileTests {
    @Test("a password file with CRLF endings gives the password without the line break", arguments: ["\r\n", "\n", "\r", ""])
    func lineEndings(ending: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mg-crlf-\(UUID().uuidString).pass")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(("pässwörd" + (ending.isEmpty ? "" : "\(ending)second line\(ending)")).utf8).write(to: file)
        #expect(try Secrets.resolve(.file(file.path)) == "pässwörd")
    }
}

/// How many commands have ended, shared by the test's tasks.
final class FinishedCommands: Sendable {
    let count = Mutex(0)

    @Test("the command inherits no descriptor but stdin/out/err, no environment beyond a minimal one, no ignored signal; its text is not in its argv")
    func inheritsNothing() async throws {
        // What a pass has open when a command runs: a listening socket (not close-on-exec,
        // as NIO's are not), another account's secret in the environment, SIGPIPE ignored.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        #expect(listener > 2)
        setenv("MG_OTHER_ACCOUNT_SECRET", "hunter2", 1)
        defer { unsetenv("MG_OTHER_ACCOUNT_SECRET") }
        signal(SIGPIPE, SIG_IGN)
        let marker = "mg-marker-\(UUID().uuidString.prefix(8))"
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("mg-pid-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        // The shell says who it is and waits: the test reads it from outside, through /proc.
        let command = Task { try await PasswordCommand.run("echo $$ > \(pidFile); sleep 2; echo pw  # \(marker)", timeoutSeconds: 10) }
        var pid = ""
        for _ in 0..<200 where pid.isEmpty {
            try await Task.sleep(for: .milliseconds(20))
            pid = (try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        try #require(!pid.isEmpty)
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        #expect(Set(fds) == ["0", "1", "2"], "descriptors: \(fds)")
        let environ = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
        let names = Set(environ.split(separator: "\0").map { String($0.prefix { $0 != "=" }) })
        #expect(!environ.contains("hunter2") && names.isSubset(of: ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "CREDENTIALS_DIRECTORY", "PWD"]),
                "environment: \(names)")
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let ignored = try #require(status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) })
        // Signals 1–31 (SIGPIPE is 13) at their defaults; glibc keeps its own 32 and 33.
        #expect(ignored & 0x7FFF_FFFF == 0, "ignored signals: \(String(ignored, radix: 16))")
        let argv = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")), as: UTF8.self)
        #expect(argv == "/bin/sh\0-s\0" && !argv.contains(marker), "argv: \(argv.debugDescription)")
        #expect(try await command.value == "pw")
    }
}
