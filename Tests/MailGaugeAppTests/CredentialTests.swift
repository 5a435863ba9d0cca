import Config
import Foundation
import MailGaugeApp
import MailGaugeCore
import Testing

@Suite("systemd credentials")
struct CredentialTests {
    @Test("from $CREDENTIALS_DIRECTORY; missing names every place looked; a path is not a name")
    func lookup() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-cred-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "s3cret\r\n".write(to: dir.appendingPathComponent("master.pass"), atomically: true, encoding: .utf8)
        #expect(try Secrets.resolve(.credential("master.pass"), environment: ["CREDENTIALS_DIRECTORY": dir.path]) == "s3cret")
        #expect {
            try Secrets.resolve(.credential("mg-test-absent-\(UUID().uuidString)"), environment: ["CREDENTIALS_DIRECTORY": dir.path])
        } throws: { error in
            let message = (error as? ProbeFailure)?.message ?? ""
            return message.contains("not found (looked in \(dir.path), /etc/credstore, /run/credstore, /usr/lib/credstore)")
        }
        #expect(throws: ProbeFailure.self) { try Secrets.resolve(.credential("../etc/shadow"), environment: [:]) }
    }

    @Test("a secret file is read only when regular and small: a FIFO is an error at once (not a hang), a large file an error")
    func secretFileBounds() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let started = Date()
        #expect { try Secrets.resolve(.file(fifo)) } throws: { ($0 as? ProbeFailure)?.message.contains("is not a regular file") == true }
        #expect(Date().timeIntervalSince(started) < 5)
        let big = dir.appendingPathComponent("big").path
        try String(repeating: "x", count: 65 * 1024).write(toFile: big, atomically: false, encoding: .utf8)
        #expect { try Secrets.resolve(.file(big)) } throws: { ($0 as? ProbeFailure)?.message.contains("is larger than 64 KiB") == true }
        #expect { try Secrets.resolve(.file("/dev/zero")) } throws: { ($0 as? ProbeFailure)?.message.contains("is not a regular file") == true }
        let ok = dir.appendingPathComponent("ok").path
        try "pw\nrest".write(toFile: ok, atomically: false, encoding: .utf8)
        #expect(try Secrets.resolve(.file(ok)) == "pw")
    }
}
