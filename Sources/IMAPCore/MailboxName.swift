/// A mailbox name as the server sent it (modified UTF-7 bytes, or UTF-8 under UTF8=ACCEPT).
/// Commands use the wire bytes unchanged; people see `decoded`.
public struct MailboxName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The name exactly as on the wire, after quoting/literal framing is removed.
    public let bytes: [UInt8]

    /// `INBOX` is case-insensitive (RFC 3501 §5.1): normalise it so names compare right.
    public init(bytes: [UInt8]) {
        if bytes.count == 5, String(decoding: bytes, as: UTF8.self).uppercased() == "INBOX" {
            self.bytes = Array("INBOX".utf8)
        } else {
            self.bytes = bytes
        }
    }

    /// A name given in Unicode, encoded to modified UTF-7 for the wire.
    public init(decoded: String) {
        self.init(bytes: Array(ModifiedUTF7.encode(decoded).utf8))
    }

    public static let inbox = MailboxName(bytes: Array("INBOX".utf8))

    /// The wire form as text (ASCII for modified UTF-7 names).
    public var wire: String { String(decoding: bytes, as: UTF8.self) }

    /// The name for people: modified UTF-7 decoded; when the bytes are not valid modified
    /// UTF-7 (servers with UTF8=ACCEPT enabled, or broken ones), read as UTF-8.
    public var decoded: String {
        (try? ModifiedUTF7.decode(bytes)) ?? String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { decoded }

    public static func < (lhs: MailboxName, rhs: MailboxName) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
