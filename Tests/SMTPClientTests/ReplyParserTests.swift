import Foundation
import Testing
@testable import SMTPClient

/// Replies as real servers send them. `aiosmtpdEHLO` is the EHLO answer of Debian 12's
/// python3-aiosmtpd 1.4 with STARTTLS and AUTH (captured by the integration test's server
/// over the wire); `postfixEHLO` is Postfix 3.7's on Debian 12 (from its smtpd banner docs
/// and a live session).
let aiosmtpdEHLO = "250-localhost\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-AUTH LOGIN PLAIN\r\n250 HELP\r\n"
let postfixEHLO = "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"

@Suite struct ReplyParserTests {
    func parseAll(_ text: String, chunk: Int = .max) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + chunk)
            parser.append(bytes[i..<end])
            while let r = try parser.next() { replies.append(r) }
            i = end
        }
        #expect(parser.bufferedByteCount == 0)
        return replies
    }

    @Test func postfixEHLOExtensions() throws {
        let replies = try parseAll(postfixEHLO)
        #expect(replies.count == 1)
        let ehlo = try #require(replies.first)
        #expect(ehlo.code == 250)
        #expect(ehlo.lines.first == "mail.example.com")
        #expect(ehlo.extensions["STARTTLS"] == [])
        #expect(ehlo.extensions["SIZE"] == ["10240000"])
        #expect(ehlo.extensions["AUTH"] == nil)
    }

    @Test func aiosmtpdAuthMechanisms() throws {
        let ehlo = try #require(try parseAll(aiosmtpdEHLO).first)
        #expect(ehlo.extensions["AUTH"] == ["LOGIN", "PLAIN"])
    }

    @Test func everySplitGivesTheSameReplies() throws {
        let session = "220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n" + postfixEHLO + "220 2.0.0 Ready to start TLS\r\n"
            + "334 VXNlcm5hbWU6\r\n" + "354 End data with <CR><LF>.<CR><LF>\r\n" + "250 2.0.0 Ok: queued as 4FZ1Q2\r\n"
        let whole = try parseAll(session)
        #expect(whole.map(\.code) == [220, 250, 220, 334, 354, 250])
        for chunk in 1...9 { #expect(try parseAll(session, chunk: chunk) == whole) }
    }

    @Test func bareLFAndCodeOnlyLines() throws {
        let replies = try parseAll("250-first\n250\n")
        #expect(replies == [SMTPReply(code: 250, lines: ["first", ""])])
    }

    @Test func malformedInput() {
        #expect(throws: SMTPReplyError.malformedLine("25O ok")) { try parseAll("25O ok\r\n") }
        #expect(throws: SMTPReplyError.malformedLine("HTTP/1.1 400 Bad Request")) { try parseAll("HTTP/1.1 400 Bad Request\r\n") }
        #expect(throws: SMTPReplyError.codeChanged(expected: 250, got: 251)) { try parseAll("250-a\r\n251 b\r\n") }
        #expect(throws: SMTPReplyError.lineTooLong(limit: 4096)) { try parseAll("250 " + String(repeating: "x", count: 5000)) }
    }
}
