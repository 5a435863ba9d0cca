import Foundation
import MailGaugeCore
import Notify
import Testing

@Suite("stdout channel")
struct StdoutChannelTests {
    let at = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("one line per notice: kind, rule, account, resource, value, the resource's own figures")
    func text() {
        let carol = Notice(accountID: "carol", user: "carol@example.com", kind: .firing, rule: .critical, resource: "STORAGE",
                           value: 0.973, usage: 3890 * 1024, limit: 4000 * 1024, at: at)
        #expect(StdoutChannel.line(carol, json: false) == "ALERT firing critical carol STORAGE: 97.3 % (3.80 MiB of 3.91 MiB)")
        let messages = Notice(accountID: "user0022", user: "user0022", kind: .firing, rule: .critical, resource: "MESSAGE",
                              value: 0.962, usage: 9620, limit: 10000, at: at)
        #expect(StdoutChannel.line(messages, json: false) == "ALERT firing critical user0022 MESSAGE: 96.2 % (9,620 of 10,000 messages)")
        let full = Notice(accountID: "user0001", user: "user0001", kind: .firing, rule: .full, resource: "STORAGE",
                          value: 1.025, usage: 618 * 1024, limit: 603 * 1024, at: at)
        #expect(StdoutChannel.line(full, json: false) == "ALERT firing full user0001 STORAGE: 102.5 %, full: new mail is refused (618 KiB of 603 KiB)")
        let down = Notice(accountID: "dave", user: "dave", kind: .firing, rule: .probeFailing, resource: "probe", value: 3, at: at)
        #expect(StdoutChannel.line(down, json: false) == "ALERT firing probe_failing dave probe: 3 failed runs in a row")
    }

    @Test("JSON lines with the resource's figures and unit, null when unknown")
    func json() throws {
        let n = Notice(accountID: "erin", user: "erin", kind: .resolved, rule: .filling, resource: "STORAGE", at: at)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(StdoutChannel.line(n, json: true).utf8)) as? [String: Any])
        #expect(object["rule"] as? String == "filling" && object["kind"] as? String == "resolved")
        #expect(object["usage"] is NSNull && object["value"] is NSNull && object["unit"] as? String == "bytes")
        let m = Notice(accountID: "u", user: "u", kind: .firing, rule: .warning, resource: "MESSAGE", value: 0.9, usage: 900, limit: 1000, at: at)
        let mo = try #require(try JSONSerialization.jsonObject(with: Data(StdoutChannel.line(m, json: true).utf8)) as? [String: Any])
        #expect(mo["usage"] as? Int == 900 && mo["limit"] as? Int == 1000 && mo["unit"] as? String == "messages")
    }
}
