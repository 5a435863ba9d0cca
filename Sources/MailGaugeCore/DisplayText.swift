/// Text that came from a server (folder names, `[ALERT]` texts, failure replies), made
/// safe for a terminal, a log line, a Nagios status line or a mail body: control
/// characters are shown escaped, so a server cannot move the cursor, clear a screen,
/// start a new log line or a new Nagios line.
public enum DisplayText {
    /// C0 controls, DEL and C1 controls as `\u{XX}`; a backslash is kept as is (it is
    /// printable), everything else passes.
    public static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Also bounded in length, for texts a server may make as long as it likes.
    public static func line(_ text: String, maxCharacters: Int = 500) -> String {
        let escaped = escapingControls(text)
        return escaped.count <= maxCharacters ? escaped : String(escaped.prefix(maxCharacters)) + "…"
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            // Bidirectional overrides and isolates reorder what a reader sees.
            || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }
}
