/// Server-supplied quantities, converted and added in one place and never wrapped.
///
/// Every figure is kept within 0…2^63−1 (RFC 9051 number64, and what SQLite's INTEGER
/// holds): a server can send any such number, so a conversion or a sum that would leave
/// that range gives nil ("unknown": absent from JSON and metrics, `?` in tables) or, for
/// sums of folder sizes, saturates at the top; it never traps and never wraps.
public enum Quantity {
    /// The largest figure carried: 2^63−1.
    public static let maximum = UInt64(Int64.max)

    /// Bytes from the KiB a QUOTA STORAGE resource counts in (RFC 9208 §5.1); nil when
    /// the result would pass `maximum`.
    public static func bytes(fromKiB kib: UInt64) -> UInt64? {
        let (product, overflow) = kib.multipliedReportingOverflow(by: 1024)
        return overflow || product > maximum ? nil : product
    }

    /// A QUOTA figure in base units: bytes for STORAGE, the server's own unit otherwise
    /// (messages for MESSAGE); nil when it cannot be represented.
    public static func baseUnits(_ raw: UInt64, resource: String) -> UInt64? {
        resource == QuotaResourceName.storage ? bytes(fromKiB: raw) : (raw <= maximum ? raw : nil)
    }

    /// `a + b`, held at `maximum` instead of overflowing.
    public static func saturatingSum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow || sum > maximum ? maximum : sum
    }

    public static func saturatingSum<S: Sequence>(_ values: S) -> UInt64 where S.Element == UInt64 {
        values.reduce(0, saturatingSum)
    }

    /// A Double from elsewhere (a trend, a product with a ratio) as a whole count, or nil
    /// when it is not finite or out of range (`UInt64(_:)` would trap).
    public static func wholeCount(_ value: Double) -> UInt64? {
        guard value.isFinite, value >= 0, value < 9.223_372_036_854_775e18 else { return nil }
        return UInt64(value)
    }
}

/// The names of the quota resources mailgauge treats specially (RFC 9208 §5).
public enum QuotaResourceName {
    /// Storage in KiB: the one that bounces mail when full.
    public static let storage = "STORAGE"
    public static let message = "MESSAGE"
}

/// A number of bytes, always within 0…2^63−1: what a server may report (RFC 9051
/// number64) and what SQLite and Prometheus carry. Built from the wire once (a size the
/// server sent, or KiB through `kibibytes`), added without overflow, and rendered from
/// here; so no byte count anywhere can wrap or trap.
public struct ByteCount: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let value: UInt64

    public static let zero = ByteCount(clamping: 0)
    public static let max = ByteCount(clamping: Quantity.maximum)

    /// Nil above 2^63−1.
    public init?(exactly value: UInt64) {
        guard value <= Quantity.maximum else { return nil }
        self.value = value
    }

    /// Held at 2^63−1 above it.
    public init(clamping value: UInt64) {
        self.value = Swift.min(value, Quantity.maximum)
    }

    public init(integerLiteral value: UInt64) {
        self.init(clamping: value)
    }

    /// The one KiB → bytes conversion (QUOTA STORAGE, RFC 9208 §5.1); nil when the result
    /// cannot be represented.
    public static func kibibytes(_ kib: UInt64) -> ByteCount? {
        Quantity.bytes(fromKiB: kib).flatMap(ByteCount.init(exactly:))
    }

    /// Saturating: a sum of server sizes stops at 2^63−1.
    public static func + (a: ByteCount, b: ByteCount) -> ByteCount {
        ByteCount(clamping: Quantity.saturatingSum(a.value, b.value))
    }

    public static func < (a: ByteCount, b: ByteCount) -> Bool { a.value < b.value }

    public var isSaturated: Bool { value == Quantity.maximum }
    public var doubleValue: Double { Double(value) }
    public var description: String { String(value) }

    /// Encoded as a plain JSON number; a decoded value above the range is an error.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(UInt64.self)
        guard let count = ByteCount(exactly: raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "byte count above 2^63-1"))
        }
        self = count
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

extension Sequence where Element == ByteCount {
    /// Saturating total.
    public func total() -> ByteCount { reduce(.zero, +) }
}
