import Foundation

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
