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
