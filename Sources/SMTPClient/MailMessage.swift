public import Foundation

/// An email address with an optional display name.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    public var address: String
    public var name: String?

    public init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }

    /// Parses `addr@example.com` or `Name <addr@example.com>`.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let open = t.lastIndex(of: "<"), t.hasSuffix(">") {
            let addr = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
            var name = t[..<open].trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            guard MailAddress.isPlausible(addr) else { return nil }
            self.init(addr, name: name.isEmpty ? nil : name)
        } else {
            guard MailAddress.isPlausible(t) else { return nil }
            self.init(t)
        }
    }

    /// local@domain with no spaces, angle brackets or line breaks: enough to refuse
    /// header injection and obvious typos; the server judges the rest.
    public static func isPlausible(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !address.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0 == "\r" || $0 == "\n" || $0 == "," })
    }

    public var domain: String { String(address.split(separator: "@").last ?? "") }

    public var description: String { name.map { "\($0) <\(address)>" } ?? address }

    /// The header form: the display name quoted or RFC 2047-encoded as needed.
    public var headerValue: String {
        guard let name, !name.isEmpty else { return address }
        return "\(HeaderEncoding.phrase(name)) <\(address)>"
    }
}

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
            let clean = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            out += HeaderEncoding.fold("\(name): \(clean)") + "\r\n"
        }
        header("From", from.headerValue)
        header("To", to.map(\.headerValue).joined(separator: ", "))
        header("Subject", HeaderEncoding.unstructured(subject))
        header("Date", Self.rfc5322Date(date))
        header("Message-ID", messageID)
        header("MIME-Version", "1.0")
        for (name, value) in extraHeaders where !name.contains(where: { $0 == ":" || $0 == "\r" || $0 == "\n" }) {
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

/// RFC 2047 encoded words and RFC 5322 folding for header values.
public enum HeaderEncoding {
    /// An unstructured value (Subject): left alone when printable ASCII, otherwise
    /// encoded words of at most 75 characters that never split a UTF-8 character.
    public static func unstructured(_ value: String) -> String {
        let clean = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return clean }
        return encodedWords(clean).joined(separator: " ")
    }

    /// A display name: atom-safe text as is, other ASCII quoted, non-ASCII encoded.
    public static func phrase(_ value: String) -> String {
        let clean = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if !clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            return encodedWords(clean).joined(separator: " ")
        }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")
        if clean.allSatisfy({ atext.contains($0) }) { return clean }
        return "\"" + clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `=?UTF-8?B?…?=` words, each at most 75 characters (RFC 2047 §2), cut on
    /// character boundaries so each word decodes on its own (§5 rule 3).
    public static func encodedWords(_ value: String) -> [String] {
        let prefix = "=?UTF-8?B?", suffix = "?="
        let maxPayloadBytes = (75 - prefix.count - suffix.count) / 4 * 3  // 45 bytes → 60 base64 chars
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > maxPayloadBytes, !chunk.isEmpty {
                words.append(prefix + Data(chunk).base64EncodedString() + suffix)
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(prefix + Data(chunk).base64EncodedString() + suffix) }
        return words
    }

    /// Folds a header line longer than 78 characters at spaces (RFC 5322 §2.2.3).
    public static func fold(_ line: String) -> String {
        guard line.count > 78 else { return line }
        var lines: [String] = []
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        // "Name: first-word" stays together: a fold right after the colon would make the
        // value start with whitespace.
        var current = words.prefix(2).joined(separator: " ")
        for word in words.dropFirst(2) {
            if current.count + 1 + word.count > 78, !current.trimmingCharacters(in: .whitespaces).isEmpty {
                lines.append(current)
                current = String(word)
            } else {
                current += " " + word
            }
        }
        lines.append(current)
        return lines.joined(separator: "\r\n ")
    }
}

/// Quoted-printable (RFC 2045 §6.7) for UTF-8 text: CRLF line breaks, lines of at most
/// 76 characters with soft breaks, `=` and non-ASCII as `=XX`, trailing whitespace
/// protected, and a leading "." or "From " encoded so no transport can alter it.
public enum QuotedPrintable {
    public static func encode(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let hex = Array("0123456789ABCDEF")
        var out: [String] = []
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var tokens: [String] = []
            for (i, b) in bytes.enumerated() {
                let last = i == bytes.count - 1
                let mustEncode = b == UInt8(ascii: "=") || b > 126 || (b < 32 && b != 9)
                    || ((b == 32 || b == 9) && last)
                    || (i == 0 && b == UInt8(ascii: "."))
                    || (i == 0 && b == UInt8(ascii: "F") && bytes.starts(with: Array("From ".utf8)))
                tokens.append(mustEncode ? "=\(hex[Int(b >> 4)])\(hex[Int(b & 15)])" : String(UnicodeScalar(b)))
            }
            var current = ""
            var encodedLine: [String] = []
            for token in tokens {
                if current.count + token.count > 75 {
                    encodedLine.append(current + "=")
                    current = ""
                }
                current += token
            }
            encodedLine.append(current)
            out.append(encodedLine.joined(separator: "\r\n"))
        }
        return out.joined(separator: "\r\n")
    }
}

/// The DATA phase's transparency (RFC 5321 §4.5.2): CRLF line endings, a "." doubled at
/// the start of any line, and the terminating CRLF.CRLF.
public enum DotStuffing {
    public static func encode(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 50 + 5)
        var atLineStart = true
        var previous: UInt8 = 0
        for b in message {
            if b == UInt8(ascii: "\n"), previous != UInt8(ascii: "\r") { out.append(UInt8(ascii: "\r")) }
            if b == UInt8(ascii: "\r") {
                out.append(b)
                previous = b
                atLineStart = false
                continue
            }
            if previous == UInt8(ascii: "\r"), b != UInt8(ascii: "\n") {
                out.append(UInt8(ascii: "\n"))  // a bare CR becomes a line break
                atLineStart = true
            }
            if atLineStart, b == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(b)
            atLineStart = b == UInt8(ascii: "\n")
            previous = b
        }
        if previous == UInt8(ascii: "\r") { out.append(UInt8(ascii: "\n")) }
        if !out.isEmpty, !(out.count >= 2 && out[out.count - 2] == UInt8(ascii: "\r") && out[out.count - 1] == UInt8(ascii: "\n")) {
            out += Array("\r\n".utf8)
        }
        out += Array(".\r\n".utf8)
        return out
    }
}
