import Foundation

/// RFC 2047 encoded words and RFC 5322 folding for header values.
public enum HeaderEncoding {
    /// Every CR and LF a space, scalar by scalar ("\r\n" is one Character: a Character
    /// comparison would miss it): no value can start a header line of its own.
    public static func singleLine(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) else { return value }
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars { out.append(scalar == "\r" || scalar == "\n" ? " " : scalar) }
        return String(out)
    }

    /// An unstructured value (Subject): left alone when printable ASCII, otherwise
    /// encoded words of at most 75 characters that never split a UTF-8 character.
    public static func unstructured(_ value: String) -> String {
        let clean = singleLine(value)
        if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return clean }
        return encodedWords(clean).joined(separator: " ")
    }

    /// A display name: atom-safe text as is, other ASCII quoted, non-ASCII encoded.
    public static func phrase(_ value: String) -> String {
        let clean = singleLine(value)
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
