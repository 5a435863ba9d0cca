import Foundation
import MailGaugeCore
import Notify
import Testing

@Suite("stdout channel")
struct StdoutChannelTests {
    let at = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("one line per notice: kind, rule, account, resource, value, figures")
    func text() {
        let carol = Notice(accountID: "carol", user: "carol@example.com", kind: .firing, rule: .critical, resource: "STORAGE",
                           value: 0.973, usedBytes: ByteCount.kibibytes(3890), limitBytes: ByteCount.kibibytes(4000), at: at)
        #expect(StdoutChannel.line(carol, json: false) == "ALERT firing critical carol STORAGE: 97.3 % (3.80 MiB of 3.91 MiB)")
        let down = Notice(accountID: "dave", user: "dave", kind: .firing, rule: .probeFailing, resource: "probe", value: 3, at: at)
        #expect(StdoutChannel.line(down, json: false) == "ALERT firing probe_failing dave probe: 3 failed runs in a row")
    }

    @Test("JSON lines with byte figures, null when unknown")
    func json() throws {
        let n = Notice(accountID: "erin", user: "erin", kind: .resolved, rule: .filling, resource: "STORAGE", at: at)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(StdoutChannel.line(n, json: true).utf8)) as? [String: Any])
        #expect(object["rule"] as? String == "filling" && object["kind"] as? String == "resolved")
        #expect(object["storage_used_bytes"] is NSNull && object["value"] is NSNull)
    }
}
