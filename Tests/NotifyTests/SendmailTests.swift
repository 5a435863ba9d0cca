import Foundation
@testable import Notify
import SMTPClient
import Testing

/// The local `sendmail` program, started as `ChildProcess` starts a child: its deadline
/// covers feeding it the message, its whole process group goes at the deadline, and it
/// inherits nothing of ours.
@Suite("sendmail transport")
struct SendmailTests {
    static func script(_ body: String) throws -> (path: String, dir: URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-sendmail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("sendmail").path
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o755)
        return (path, dir)
    }

    static let message = MailMessage(from: MailAddress("gauge@example.test"), to: [MailAddress("it@example.test")], subject: "s",
                                     text: String(repeating: "a long line of text\n", count: 60_000))  // over a megabyte: more than a pipe holds

    static func survivors(_ marker: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        process.arguments = ["-f", marker]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test("a sendmail that never reads its message is stopped at the deadline, and what it started goes with it")
    func neverReads() async throws {
        let marker = "mg-sendmail-\(UUID().uuidString.prefix(8))"
        let (path, dir) = try Self.script("sh -c 'sleep 300; : \(marker)' &\nsleep 300")
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = Date()
        let result = await MailTransport.sendmail(path: path, timeoutSeconds: 1, message: Self.message, recipients: ["it@example.test"])
        guard case .failure(let error) = result else { Issue.record("delivered?"); return }
        #expect(error.message.contains("no exit within 1.0 s; its process group was killed"), "\(error)")
        #expect(Date().timeIntervalSince(started) < 10)
        try await Task.sleep(for: .milliseconds(300))
        #expect(Self.survivors(marker).isEmpty, "left behind: \(Self.survivors(marker))")
    }

    @Test("sendmail gets the message and its arguments, and no descriptor or environment of ours")
    func inheritsNothing() async throws {
        let (path, dir) = try Self.script("""
            out="$(dirname "$0")/seen"
            echo "$@" > "$out.args"; cat > "$out.msg"; echo $$ > "$out.pid"; sleep 2
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        setenv("MG_OTHER_ACCOUNT_SECRET", "hunter2", 1)
        defer { unsetenv("MG_OTHER_ACCOUNT_SECRET") }
        let message = Self.message
        let delivery = Task { await MailTransport.sendmail(path: path, timeoutSeconds: 10, message: message, recipients: ["it@example.test", "a@b\r\nx"]) }
        let seen = dir.appendingPathComponent("seen").path
        var pid = ""
        for _ in 0..<250 where pid.isEmpty {
            try await Task.sleep(for: .milliseconds(20))
            pid = (try? String(contentsOfFile: seen + ".pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        try #require(!pid.isEmpty)
        // Seen from outside while it waits: stdin, stdout, stderr, and the shell's own
        // handle on its script; no socket, no other pipe of ours.
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        let targets = Dictionary(uniqueKeysWithValues: fds.map { ($0, (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) ?? "?") })
        #expect(Set(["0", "1", "2"]).isSubset(of: Set(fds)))
        for (fd, target) in targets where !["0", "1", "2"].contains(fd) { #expect(target == path, "fd \(fd) → \(target)") }
        #expect(!targets.values.contains { $0.hasPrefix("socket:") }, "\(targets)")
        let environ = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
        #expect(!environ.contains("hunter2"))
        let result = await delivery.value
        #expect((try? result.get()) == "handed to \(path)", "\(result)")
        #expect(try String(contentsOfFile: seen + ".args", encoding: .utf8) == "-i -f gauge@example.test -- it@example.test\n")
        #expect(try String(contentsOfFile: seen + ".msg", encoding: .utf8).contains("a long line of text"))
    }
}
