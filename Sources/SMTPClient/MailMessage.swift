public import Foundation

/// A message to send: headers, a plain-text part and optionally an HTML alternative.
public struct MailMessage: Sendable, Hashable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var subject: String
    public var text: String
    public var html: String?
    public var date: Date
    public var messageID: String
    /// Extra headers (name, value), e.g. `Auto-Submitted: auto-generated`.
    public var extraHeaders: [(String, String)]

    public init(from: MailAddress, to: [MailAddress], subject: String, text: String, html: String? = nil,
                date: Date = Date(), messageID: String? = nil, extraHeaders: [(String, String)] = []) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.date = date
        self.messageID = messageID ?? "<\(UUID().uuidString.lowercased())@\(from.domain.isEmpty ? "mailgauge" : from.domain)>"
        self.extraHeaders = extraHeaders
    }

    public static func == (a: MailMessage, b: MailMessage) -> Bool {
        a.from == b.from && a.to == b.to && a.subject == b.subject && a.text == b.text && a.html == b.html
            && a.date == b.date && a.messageID == b.messageID && a.extraHeaders.map { "\($0.0):\($0.1)" } == b.extraHeaders.map { "\($0.0):\($0.1)" }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(messageID)
    }

    /// The RFC 5322 message: CRLF line endings, headers folded and encoded, bodies in
    /// quoted-printable UTF-8 (readable in a raw dump, safe for any line length), a
    /// multipart/alternative when there is HTML. Not yet dot-stuffed.
    public func rendered(boundary: String? = nil) -> [UInt8] {
        var out = ""
        // No value may carry a line break: that would let data inject headers.
        func header(_ name: String, _ value: String) {
            out += HeaderEncoding.fold("\(name): \(HeaderEncoding.singleLine(value))") + "\r\n"
        }
        header("From", from.headerValue)
        header("To", to.map(\.headerValue).joined(separator: ", "))
        header("Subject", HeaderEncoding.unstructured(subject))
        header("Date", Self.rfc5322Date(date))
        header("Message-ID", messageID)
        header("MIME-Version", "1.0")
        for (name, value) in extraHeaders where !name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: ":") }) {
            header(name, HeaderEncoding.unstructured(value))
        }
        if let html {
            let b = boundary ?? "=_mailgauge_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
            header("Content-Type", "multipart/alternative; boundary=\"\(b)\"")
            out += "\r\nThis is a multi-part message in MIME format.\r\n"
            out += "\r\n--\(b)\r\n" + Self.part("text/plain", text)
            out += "\r\n--\(b)\r\n" + Self.part("text/html", html)
            out += "\r\n--\(b)--\r\n"
        } else {
            out += Self.part("text/plain", text)
        }
        return Array(out.utf8)
    }

    private static func part(_ type: String, _ body: String) -> String {
        "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + QuotedPrintable.encode(body)
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
