import MailGaugeCore
import Testing

@Suite("server text made safe to show")
struct DisplayTextTests {
    @Test("control characters, DEL, C1 and bidi overrides are escaped; the rest passes", arguments: [
        ("Inbox", "Inbox"),
        ("归档/2024", "归档/2024"),
        ("evil\u{1B}[2Jname", "evil\\u{1B}[2Jname"),
        ("line\r\nbreak", "line\\u{D}\\u{A}break"),
        ("tab\there", "tab\\u{9}here"),
        ("del\u{7F}c1\u{9B}", "del\\u{7F}c1\\u{9B}"),
        ("abc\u{202E}fed", "abc\\u{202E}fed"),
        ("back\\slash", "back\\slash"),
    ])
    func escapes(input: String, shown: String) {
        #expect(DisplayText.escapingControls(input) == shown)
    }

    @Test("long texts are cut")
    func bounded() {
        #expect(DisplayText.line(String(repeating: "x", count: 600), maxCharacters: 500).count == 501)
    }
}
