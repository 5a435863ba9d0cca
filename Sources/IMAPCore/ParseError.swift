/// Why bytes from a server could not be read as a response. The parser never traps and
/// never waits forever: every malformed or oversized input ends in one of these.
public enum IMAPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A line (without its literals) grew past `Limits.maxLineLength` before its CRLF.
    case lineTooLong(limit: Int)
    /// A literal announced more octets than `Limits.maxLiteralSize`.
    case literalTooLarge(announced: UInt64, limit: Int)
    /// A whole response (lines plus literals) grew past `Limits.maxResponseSize`.
    case responseTooLarge(limit: Int)
    /// Parentheses nested deeper than `Limits.maxNestingDepth`.
    case nestingTooDeep(limit: Int)
    /// The response does not follow the grammar; `offset` is the byte where it went wrong
    /// within the response, `expected` what the grammar wanted there.
    case syntax(expected: String, offset: Int, excerpt: String)
    /// A number does not fit its type.
    case numberOverflow(offset: Int)

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "response line longer than \(limit) bytes"
        case .literalTooLarge(let n, let limit): "literal of \(n) bytes exceeds the limit of \(limit)"
        case .responseTooLarge(let limit): "response larger than \(limit) bytes"
        case .nestingTooDeep(let limit): "lists nested deeper than \(limit)"
        case .syntax(let expected, let offset, let excerpt): "malformed response: expected \(expected) at byte \(offset) in \(excerpt)"
        case .numberOverflow(let offset): "number too large at byte \(offset)"
        }
    }
}
