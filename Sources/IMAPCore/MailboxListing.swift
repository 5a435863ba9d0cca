/// One `LIST` (or `LSUB`) response: RFC 3501 §7.2.2, extended by RFC 5258 (extended data
/// such as CHILDINFO) and RFC 6154 (special-use attributes).
public struct MailboxListing: Sendable, Hashable {
    /// Attributes as sent (`\Noselect`, `\HasChildren`, `\Sent`, …).
    public var attributes: [String]
    /// The hierarchy separator, nil when the server has none (flat namespace).
    public var separator: Character?
    public var name: MailboxName
    /// Extended data items (`CHILDINFO ("SUBSCRIBED")`, `OLDNAME ("x")`), tag upper-cased.
    public var extendedData: [String: IMAPValue]

    public init(attributes: [String], separator: Character?, name: MailboxName, extendedData: [String: IMAPValue] = [:]) {
        self.attributes = attributes
        self.separator = separator
        self.name = name
        self.extendedData = extendedData
    }

    private func has(_ attribute: String) -> Bool {
        attributes.contains { $0.caseInsensitiveCompare(attribute) }
    }

    /// Not a mailbox one can select: `\Noselect` (RFC 3501) or `\NonExistent` (RFC 5258).
    public var isSelectable: Bool { !has("\\Noselect") && !has("\\NonExistent") }

    /// The RFC 6154 / RFC 8457 special-use attributes among `attributes`, in order.
    public var specialUse: [String] {
        let found = attributes.filter { attribute in
            MailboxListing.specialUseAttributes.contains { attribute.caseInsensitiveCompare($0) }
        }
        // The usual case, one attribute spelled as the RFC does, gets a shared array: a pass
        // holds every account's folders until it stores them, and a copy per folder was
        // megabytes at 10,000 accounts.
        if found.count == 1, let shared = Self.sharedSpecialUse[found[0]] { return shared }
        return found
    }

    private static let sharedSpecialUse = Dictionary(uniqueKeysWithValues: specialUseAttributes.map { ($0, [$0]) })

    /// `CHILDINFO` extended data (RFC 5258 §4), e.g. `["SUBSCRIBED"]`.
    public var childInfo: [String] {
        guard case .list(let items)? = extendedData["CHILDINFO"] else { return [] }
        return items.compactMap(\.text)
    }

    public static let specialUseAttributes = [
        "\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash", "\\Important",
    ]
}

extension String {
    /// ASCII case-insensitive equality, the comparison IMAP uses for keywords and flags.
    func caseInsensitiveCompare(_ other: String) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in asciiUpper(x) == asciiUpper(y) }
    }
}

@inline(__always) func asciiUpper(_ b: UInt8) -> UInt8 {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) ? b - 32 : b
}
