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
}
