import Foundation

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

    /// local@domain with no spaces, angle brackets, commas or control characters (line
    /// breaks included): enough to refuse header and command injection and obvious typos;
    /// the server judges the rest. Checked on bytes: "\r\n" is one Character, equal to
    /// neither "\r" nor "\n".
    public static func isPlausible(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !address.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: ",") })
    }

    public var domain: String { String(address.split(separator: "@").last ?? "") }

    public var description: String { name.map { "\($0) <\(address)>" } ?? address }

    /// The header form: the display name quoted or RFC 2047-encoded as needed.
    public var headerValue: String {
        guard let name, !name.isEmpty else { return address }
        return "\(HeaderEncoding.phrase(name)) <\(address)>"
    }
}
