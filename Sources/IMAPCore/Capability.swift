/// One capability a server advertises (`CAPABILITY` response or `[CAPABILITY …]` code).
/// Capability names are case-insensitive, so the value is kept in upper case.
public struct Capability: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let name: String

    public init(_ name: String) { self.name = name.uppercased() }
    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { name }

    public static let imap4rev1: Capability = "IMAP4REV1"
    public static let imap4rev2: Capability = "IMAP4REV2"
    public static let startTLS: Capability = "STARTTLS"
    public static let loginDisabled: Capability = "LOGINDISABLED"
    public static let saslIR: Capability = "SASL-IR"
    public static let literalPlus: Capability = "LITERAL+"
    public static let literalMinus: Capability = "LITERAL-"
    public static let id: Capability = "ID"
    public static let quota: Capability = "QUOTA"
    public static let listExtended: Capability = "LIST-EXTENDED"
    public static let listStatus: Capability = "LIST-STATUS"
    public static let statusSize: Capability = "STATUS=SIZE"
    public static let specialUse: Capability = "SPECIAL-USE"
    public static let utf8Accept: Capability = "UTF8=ACCEPT"
    public static let enable: Capability = "ENABLE"

    /// `AUTH=<mechanism>`.
    public static func auth(_ mechanism: String) -> Capability { Capability("AUTH=" + mechanism) }
}

extension Set where Element == Capability {
    /// The SASL mechanisms listed as `AUTH=…`.
    public var authMechanisms: Set<String> {
        Set<String>(compactMap { $0.name.hasPrefix("AUTH=") ? String($0.name.dropFirst(5)) : nil })
    }
}
