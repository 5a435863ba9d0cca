/// One SMTP reply (RFC 5321 §4.2): a three-digit code and one or more text lines.
/// Multi-line replies repeat the code with `-` after it on every line but the last.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// 2xx: done; 3xx: go on (354 after DATA, 334 during AUTH).
    public var isPositive: Bool { (200..<400).contains(code) }
    /// 4xx: try again later; 5xx: permanent.
    public var isTransient: Bool { (400..<500).contains(code) }

    public var text: String { lines.joined(separator: " ") }
    public var description: String { "\(code) \(text)" }

    /// EHLO keywords (the first word of each line after the greeting line), upper-cased,
    /// with their parameters: `AUTH PLAIN LOGIN` → ["AUTH": ["PLAIN", "LOGIN"]].
    public var extensions: [String: [String]] {
        var result: [String: [String]] = [:]
        for line in lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let keyword = words.first else { continue }
            result[keyword.uppercased()] = words.dropFirst().map { $0.uppercased() }
        }
        return result
    }
}

public enum SMTPReplyError: Error, Hashable, CustomStringConvertible {
    case malformedLine(String)
    case lineTooLong(limit: Int)
    case tooManyLines(limit: Int)
    case codeChanged(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .malformedLine(let l): "malformed SMTP reply line \"\(l.prefix(80))\""
        case .lineTooLong(let n): "SMTP reply line longer than \(n) bytes"
        case .tooManyLines(let n): "SMTP reply with more than \(n) lines"
        case .codeChanged(let e, let g): "SMTP multi-line reply changed its code from \(e) to \(g)"
        }
    }
}

/// Incremental reply parser: feed bytes as they arrive, take complete replies out.
/// Bounded, so a hostile server cannot make us buffer without end. Lines end in CRLF;
/// a bare LF is accepted too (some servers and proxies send it).
public struct SMTPReplyParser: Sendable {
    public var maxLineLength: Int
    public var maxLines: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var pendingCode: Int?
    private var pendingLines: [String] = []

    public init(maxLineLength: Int = 4096, maxLines: Int = 200) {
        self.maxLineLength = maxLineLength
        self.maxLines = maxLines
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 4096, start > buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet part of a complete reply.
    public var bufferedByteCount: Int { buffer.count - start }

    public mutating func next() throws(SMTPReplyError) -> SMTPReply? {
        while true {
            guard let lf = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                if buffer.count - start > maxLineLength { throw .lineTooLong(limit: maxLineLength) }
                return nil
            }
            var end = lf
            if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            guard end - start <= maxLineLength else { throw .lineTooLong(limit: maxLineLength) }
            let line = Array(buffer[start..<end])
            start = lf + 1
            if let reply = try take(line) { return reply }
        }
    }

    private mutating func take(_ line: [UInt8]) throws(SMTPReplyError) -> SMTPReply? {
        let text = String(decoding: line, as: UTF8.self)
        // reply-line = 3DIGIT [ ("-" / SP) textstring ] CRLF; "250" alone is valid.
        guard line.count >= 3, line[0..<3].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              line[0] >= UInt8(ascii: "2"), line[0] <= UInt8(ascii: "5"),
              line.count == 3 || line[3] == UInt8(ascii: " ") || line[3] == UInt8(ascii: "-")
        else { throw .malformedLine(text) }
        let code = Int(String(decoding: line[0..<3], as: UTF8.self))!
        if let pending = pendingCode, pending != code { throw .codeChanged(expected: pending, got: code) }
        pendingCode = code
        pendingLines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        guard pendingLines.count <= maxLines else { throw .tooManyLines(limit: maxLines) }
        if line.count > 3, line[3] == UInt8(ascii: "-") { return nil }
        let reply = SMTPReply(code: code, lines: pendingLines)
        pendingCode = nil
        pendingLines = []
        return reply
    }
}
