/// Server-supplied quantities, converted and added in one place and never wrapped.
///
/// Every figure is kept within 0…2^63−1 (RFC 9051 number64, and what SQLite's INTEGER
/// holds): a server can send any such number, so a conversion or a sum that would leave
/// that range gives nil ("unknown": null in JSON, no sample in metrics, `?` in tables and
/// pages). Never a figure held at the top that looks real; never a trap, never a wrap.
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

    /// `a + b`, or nil when the sum passes `maximum`.
    public static func sum(_ a: UInt64, _ b: UInt64) -> UInt64? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow || sum > maximum ? nil : sum
    }

    /// The sum of every value, or nil when one is unknown or the sum passes `maximum`.
    public static func sum<S: Sequence>(_ values: S) -> UInt64? where S.Element == UInt64? {
        var total: UInt64 = 0
        for value in values {
            guard let value, let next = sum(total, value) else { return nil }
            total = next
        }
        return total
    }

    public static func sum<S: Sequence>(_ values: S) -> UInt64? where S.Element == UInt64 {
        sum(values.lazy.map { Optional($0) })
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
/// server sent, or KiB through `kibibytes`), added only where the sum is representable
/// (`adding`, `total`: nil otherwise), and rendered from here; so no byte count anywhere
/// can wrap, trap or be held at a made-up maximum.
public struct ByteCount: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let value: UInt64

    public static let zero = ByteCount(clamping: 0)

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

    /// `self + other`, or nil when the sum passes 2^63−1 (unknown, not held at the top).
    public func adding(_ other: ByteCount) -> ByteCount? {
        Quantity.sum(value, other.value).map(ByteCount.init(clamping:))
    }

    public static func < (a: ByteCount, b: ByteCount) -> Bool { a.value < b.value }

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

extension Sequence where Element == ByteCount? {
    /// The total, or nil when a part is unknown or the sum cannot be represented.
    public func total() -> ByteCount? { Quantity.sum(lazy.map { $0?.value }).map(ByteCount.init(clamping:)) }
}

extension Sequence where Element == ByteCount {
    /// The total, or nil when the sum cannot be represented.
    public func total() -> ByteCount? { Quantity.sum(lazy.map(\.value)).map(ByteCount.init(clamping:)) }
}
