@testable import IMAPCore
import Testing

@Suite("modified UTF-7 (RFC 3501 §5.1.3)")
struct ModifiedUTF7Tests {
    static let pairs: [(String, String)] = [
        ("INBOX", "INBOX"),
        ("&", "&-"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  // the RFC's example
        ("Entwürfe", "Entw&APw-rfe"),
        ("归档/2024", "&X1JoYw-/2024"),
        ("报告", "&YqVUSg-"),
        ("Черновики", "&BCcENQRABD0EPgQyBDgEOgQ4-"),
        ("📁 Files", "&2D3cwQ- Files"),  // a surrogate pair
        ("a\tb", "a&AAk-b"),              // control characters are encoded
        ("", ""),
    ]

    @Test("encode and decode known pairs")
    func knownPairs() throws {
        for (unicode, wire) in Self.pairs {
            #expect(ModifiedUTF7.encode(unicode) == wire, "\(unicode)")
            #expect(try ModifiedUTF7.decode(Array(wire.utf8)) == unicode, "\(wire)")
        }
    }

    @Test("round trip over many generated names")
    func roundTrip() throws {
        var rng = SplitMix(7)
        let alphabet: [Unicode.Scalar] = ["a", "Z", "&", "-", "/", " ", "\"", "ü", "é", "北", "語", "😀", "\u{1}", "~", ",", "+"]
        for _ in 0..<2000 {
            var s = String.UnicodeScalarView()
            for _ in 0..<(rng.next() % 12) { s.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let name = String(s)
            let wire = ModifiedUTF7.encode(name)
            #expect(wire.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
            #expect(try ModifiedUTF7.decode(Array(wire.utf8)) == name)
        }
    }

    @Test("invalid input is a typed error, never a crash")
    func invalid() {
        let cases: [(String, ModifiedUTF7.DecodingError)] = [
            ("&U,BTFw", .unterminatedShift(offset: 0)),
            ("a&U,B!Fw-", .invalidBase64(offset: 5)),
            ("&AGE-", .unnecessaryEncoding(offset: 0)),  // 'a' must not be base64-encoded
            ("&2D3-", .invalidUTF16(offset: 0)),        // lone high surrogate
            ("&AA-", .invalidUTF16(offset: 0)),         // one byte of UTF-16
            ("&APx-", .invalidUTF16(offset: 0)),        // non-zero padding bits
        ]
        for (wire, error) in cases {
            #expect(throws: error) { try ModifiedUTF7.decode(Array(wire.utf8)) }
        }
        #expect(throws: ModifiedUTF7.DecodingError.nonASCIIByte(offset: 4)) { try ModifiedUTF7.decode(Array("Entwürfe".utf8)) }
    }

    @Test("MailboxName shows decoded names and falls back to UTF-8 for raw names")
    func mailboxName() {
        #expect(MailboxName(bytes: Array("Entw&APw-rfe".utf8)).decoded == "Entwürfe")
        #expect(MailboxName(bytes: Array("Entwürfe".utf8)).decoded == "Entwürfe")  // UTF8=ACCEPT servers
        #expect(MailboxName(decoded: "归档").wire == "&X1JoYw-")
        #expect(MailboxName(bytes: Array("inbox".utf8)) == .inbox)
        #expect(MailboxName(bytes: Array("INBOX/sub".utf8)).wire == "INBOX/sub")
    }
}
