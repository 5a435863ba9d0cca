import Foundation
import Testing
@testable import SMTPClient

@Suite struct MessageTests {
    /// Decodes quoted-printable the way a mail reader does, to check round trips.
    func decodeQP(_ s: String) -> String {
        var bytes: [UInt8] = []
        let chars = Array(s.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var i = 0
        while i < chars.count {
            if chars[i] == UInt8(ascii: "="), i + 2 < chars.count,
               let v = UInt8(String(decoding: chars[i + 1...i + 2], as: UTF8.self), radix: 16) {
                bytes.append(v)
                i += 3
            } else {
                bytes.append(chars[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func quotedPrintableVectors() {
        #expect(QuotedPrintable.encode("café = ok") == "caf=C3=A9 =3D ok")
        #expect(QuotedPrintable.encode("trailing space \nx") == "trailing space=20\r\nx")
        #expect(QuotedPrintable.encode(".dot\nFrom me") == "=2Edot\r\n=46rom me")
    }

    @Test func quotedPrintableLinesStayShortAndRoundTrip() {
        let text = String(repeating: "您的邮箱已使用 97 % — Trash holds 1.2 GiB. ", count: 20) + "\nline two\n\n" + String(repeating: "a=b ", count: 60)
        let encoded = QuotedPrintable.encode(text)
        for line in encoded.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 76) }
        #expect(decodeQP(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test func encodedWordsAreShortAndDecodeWhole() throws {
        let subject = "请尽快处理：您的邮箱已使用 97.3 %，新邮件将被退回给发件人。请清空已删除文件夹"
        let words = HeaderEncoding.encodedWords(subject)
        #expect(words.count > 1)
        var decoded = ""
        for word in words {
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let payload = try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            // Each word decodes on its own: no character is split across words.
            decoded += try #require(String(data: payload, encoding: .utf8))
        }
        #expect(decoded == subject)
        #expect(HeaderEncoding.unstructured("Plain ASCII subject") == "Plain ASCII subject")
        #expect(HeaderEncoding.unstructured("evil\r\nBcc: x@y") == "evil  Bcc: x@y")
    }

    @Test func displayNames() {
        #expect(MailAddress("a@b.c", name: "Mail Gauge").headerValue == "Mail Gauge <a@b.c>")
        #expect(MailAddress("a@b.c", name: "Gauge, Mail").headerValue == "\"Gauge, Mail\" <a@b.c>")
        #expect(MailAddress("a@b.c", name: "邮件").headerValue.hasPrefix("=?UTF-8?B?"))
        #expect(MailAddress(parsing: "\"IT Desk\" <it@example.com>") == MailAddress("it@example.com", name: "IT Desk"))
        #expect(MailAddress(parsing: "not an address") == nil)
        #expect(MailAddress(parsing: "a@b.c>\r\nBcc: x") == nil)
    }

    @Test func dotStuffing() {
        func s(_ text: String) -> String { String(decoding: DotStuffing.encode(Array(text.utf8)), as: UTF8.self) }
        #expect(s("a\r\n.hidden\r\n") == "a\r\n..hidden\r\n.\r\n")
        #expect(s(".\r\n") == "..\r\n.\r\n")
        #expect(s("no newline at end") == "no newline at end\r\n.\r\n")
        #expect(s("bare\nlf\n.x") == "bare\r\nlf\r\n..x\r\n.\r\n")
        #expect(s("bare\rcr") == "bare\r\ncr\r\n.\r\n")
    }

    @Test func multipartStructure() {
        let m = MailMessage(from: MailAddress("gauge@example.com", name: "mailgauge"), to: [MailAddress("it@example.com")],
                            subject: "您的邮箱已使用 97 %", text: "text part", html: "<p>html</p>",
                            date: Date(timeIntervalSince1970: 1_795_000_000), messageID: "<id@example.com>")
        let rendered = String(decoding: m.rendered(boundary: "BOUNDARY"), as: UTF8.self)
        #expect(rendered.hasPrefix("From: mailgauge <gauge@example.com>\r\nTo: it@example.com\r\nSubject: =?UTF-8?B?"))
        #expect(rendered.contains("Date: Wed, 18 Nov 2026 11:06:40 +0000"))
        #expect(rendered.contains("Content-Type: multipart/alternative; boundary=\"BOUNDARY\"\r\n"))
        #expect(rendered.contains("\r\n--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n"))
        #expect(rendered.contains("\r\n--BOUNDARY\r\nContent-Type: text/html; charset=utf-8\r\n"))
        #expect(rendered.hasSuffix("\r\n--BOUNDARY--\r\n"))
        #expect(!rendered.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func noHeaderInjectionThroughAddresses() {
        let m = MailMessage(from: MailAddress("a@b.c"), to: [MailAddress("x@y.z\r\nBcc: evil@example.com")], subject: "s\r\nBcc: e@x",
                            text: "t", messageID: "<id@b.c>")
        let rendered = String(decoding: m.rendered(), as: UTF8.self)
        #expect(!rendered.contains("\r\nBcc:"))
    }

    @Test("CR and LF are found as bytes: \"\\r\\n\" is one Character, equal to neither")
    func lineBreaksAsBytes() {
        #expect(!MailAddress.isPlausible("a@b\r\nNOOP"))
        #expect(!MailAddress.isPlausible("a@b\nRCPT TO:<x@y>") && !MailAddress.isPlausible("a@b\rx"))
        #expect(!MailAddress.isPlausible("a@b\u{0}") && MailAddress.isPlausible("jörg@example.com"))
        #expect(MailAddress(parsing: "Eve <a@b\r\nDATA>") == nil)
        #expect(HeaderEncoding.singleLine("x\r\nBcc: y") == "x  Bcc: y")
        let message = MailMessage(from: MailAddress("a@b.c"), to: [MailAddress("d@e.f")], subject: "s\r\nBcc: evil@x.y", text: "t",
                                  extraHeaders: [("X-Evil\r\nBcc", "v"), ("X-Ok", "1\r\nBcc: evil@x.y")])
        let rendered = String(decoding: message.rendered(boundary: "b"), as: UTF8.self)
        #expect(!rendered.contains("\r\nBcc"), "\(rendered)")
        #expect(rendered.contains("X-Ok: 1  Bcc: evil@x.y"))
    }
}
