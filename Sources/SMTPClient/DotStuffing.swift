import Foundation

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
