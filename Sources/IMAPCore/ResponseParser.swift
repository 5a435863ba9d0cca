/// Incremental parser for the server side of an IMAP connection.
///
/// Feed it bytes as they arrive with `append(_:)`, then call `next()` until it returns nil
/// (needs more bytes). It works in two steps:
/// 1. *framing*: find where one response ends, which needs only CRLF and the `{n}` / `{n+}`
///    literal announcements at line ends (RFC 3501 §4.3), bounded by `Limits`;
/// 2. *grammar*: parse the complete response (`ResponseGrammar`).
/// A grammar error consumes the bad response, so the stream stays in step and the caller
/// decides whether to go on. A framing limit error is final: the stream cannot be trusted.
public struct ResponseParser: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Longest line, not counting literal octets.
        public var maxLineLength: Int
        /// Largest single literal.
        public var maxLiteralSize: Int
        /// Largest response, lines and literals together.
        public var maxResponseSize: Int
        /// Deepest nesting of parenthesised lists.
        public var maxNestingDepth: Int

        public init(maxLineLength: Int = 1 << 20, maxLiteralSize: Int = 16 << 20,
                    maxResponseSize: Int = 32 << 20, maxNestingDepth: Int = 64) {
            self.maxLineLength = maxLineLength
            self.maxLiteralSize = maxLiteralSize
            self.maxResponseSize = maxResponseSize
            self.maxNestingDepth = maxNestingDepth
        }
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    /// Start of the response being framed.
    private var frameStart = 0
    /// Start of the current line within that response.
    private var lineStart = 0
    /// Where to resume looking for LF (so a slow trickle of bytes is not rescanned).
    private var scanFrom = 0
    /// Set after a framing limit error: the stream is out of step for good.
    private var poisoned: IMAPParseError?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes received but not yet returned as part of a response.
    public var bufferedByteCount: Int { buffer.count - frameStart }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete response, or nil when more bytes are needed.
    public mutating func next() throws(IMAPParseError) -> Response? {
        if let poisoned { throw poisoned }
        guard let frame = try nextFrame() else { return nil }
        return try ResponseGrammar.parse(frame, limits: limits)
    }

    /// Finds the next complete response and removes it from the buffer.
    mutating func nextFrame() throws(IMAPParseError) -> ArraySlice<UInt8>? {
        do {
            guard let end = try findFrameEnd() else { return nil }
            let frame = buffer[frameStart..<end]
            frameStart = end
            lineStart = end
            scanFrom = end
            compactIfWorthIt()
            return frame
        } catch {
            poisoned = error
            throw error
        }
    }

    private mutating func findFrameEnd() throws(IMAPParseError) -> Int? {
        while true {
            guard let lf = indexOfLF(from: scanFrom) else {
                if buffer.count - lineStart > limits.maxLineLength {
                    throw .lineTooLong(limit: limits.maxLineLength)
                }
                scanFrom = buffer.count
                return nil
            }
            if lf - lineStart > limits.maxLineLength { throw .lineTooLong(limit: limits.maxLineLength) }
            if let literalLength = try literalAnnouncement(endingBefore: lf) {
                guard literalLength <= UInt64(limits.maxLiteralSize) else {
                    throw .literalTooLarge(announced: literalLength, limit: limits.maxLiteralSize)
                }
                let literalEnd = lf + 1 + Int(literalLength)
                if literalEnd - frameStart > limits.maxResponseSize { throw .responseTooLarge(limit: limits.maxResponseSize) }
                guard literalEnd <= buffer.count else {
                    scanFrom = lf  // look at this line end again once the literal is here
                    return nil
                }
                lineStart = literalEnd
                scanFrom = literalEnd
                continue
            }
            if lf + 1 - frameStart > limits.maxResponseSize { throw .responseTooLarge(limit: limits.maxResponseSize) }
            return lf + 1
        }
    }

    private func indexOfLF(from start: Int) -> Int? {
        var i = start
        while i < buffer.count {
            if buffer[i] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    /// If the line ending at `lf` ends in `{n}` or `{n+}` (optionally `~{n}` for literal8),
    /// the announced length.
    private func literalAnnouncement(endingBefore lf: Int) throws(IMAPParseError) -> UInt64? {
        var i = lf - 1
        if i >= lineStart, buffer[i] == 0x0D { i -= 1 }
        guard i >= lineStart, buffer[i] == UInt8(ascii: "}") else { return nil }
        i -= 1
        if i >= lineStart, buffer[i] == UInt8(ascii: "+") { i -= 1 }
        let digitsEnd = i + 1
        while i >= lineStart, buffer[i] >= UInt8(ascii: "0"), buffer[i] <= UInt8(ascii: "9") { i -= 1 }
        guard i >= lineStart, buffer[i] == UInt8(ascii: "{"), i + 1 < digitsEnd else { return nil }
        var value: UInt64 = 0
        for d in buffer[(i + 1)..<digitsEnd] {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            if o1 || o2 { throw .literalTooLarge(announced: .max, limit: limits.maxLiteralSize) }
            value = s
        }
        return value
    }

    private mutating func compactIfWorthIt() {
        if frameStart == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.count < 1 << 16)
            frameStart = 0; lineStart = 0; scanFrom = 0
        } else if frameStart > 1 << 16 && frameStart > buffer.count / 2 {
            buffer.removeFirst(frameStart)
            scanFrom -= frameStart; lineStart -= frameStart; frameStart = 0
        }
    }
}
