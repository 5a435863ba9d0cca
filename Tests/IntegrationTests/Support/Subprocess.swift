import Foundation
import Synchronization

/// Runs a program to completion and captures its output (through files, so a chatty
/// child can never dead-lock on a full pipe). Waiting is asynchronous (the process's
/// termination handler resumes a continuation), so tests running in parallel never
/// hold a cooperative thread while a child runs.
struct Subprocess {
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    timeoutSeconds: Double = 120) async throws -> Output {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-sub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let child = Child(process)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            child.startWatchdog(seconds: timeoutSeconds)
        }
        child.stopWatchdog()
        if child.timedOut {
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) did not finish in \(timeoutSeconds)s")
        }
        return Output(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// For `atexit`, where nothing can be awaited.
    static func runBlocking(_ executable: String, _ arguments: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
    }

    /// The running child and its deadline: SIGTERM when it passes, SIGKILL 5 s later.
    private final class Child: Sendable {
        let process: Process
        private let state = Mutex<(timedOut: Bool, watchdog: Task<Void, Never>?)>((false, nil))

        init(_ process: Process) { self.process = process }

        var timedOut: Bool { state.withLock { $0.timedOut } }

        func startWatchdog(seconds: Double) {
            let task = Task { [self] in
                guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
                state.withLock { $0.timedOut = true }
                process.terminate()
                guard (try? await Task.sleep(for: .seconds(5))) != nil, process.isRunning else { return }
                kill(process.processIdentifier, SIGKILL)
            }
            state.withLock { $0.watchdog = task }
        }

        func stopWatchdog() { state.withLock { $0.watchdog?.cancel() } }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Where things are: the repository (from this file's path) and the built binary (next to
/// the test bundle, since the test target depends on the executable).
enum Paths {
    static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let mailgauge: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // Linux: .build/debug/mailgaugePackageTests.xctest is the binary itself.
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("mailgauge").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return repository.appendingPathComponent(".build/debug/mailgauge").path
    }()
}

extension Process {
    /// Waits for a child the test started itself, without holding a cooperative thread:
    /// `waitUntilExit()` there blocks one of the pool's few threads (two on a 2-core CI
    /// machine) for as long as the child runs, and every other test stalls behind it.
    func exited() async {
        while isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        waitUntilExit()  // reaped already: returns at once
    }
}
