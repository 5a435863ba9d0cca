import Foundation
import MailGaugeCore

/// One quota resource's largest usage (and limit) per hour over the forecast window, kept
/// as one compact row: a forecast reads a single blob of about a kilobyte instead of 336
/// rows of a table keyed by account, root, resource and hour (at 10,000 accounts, reading
/// those rows was a third of a pass's time).
///
/// Encoding, version 1: a version byte, then per point, oldest first, three LEB128
/// varints: the hour number's rise from the point before (the first point's is absolute),
/// and the zigzag-encoded changes of usage and of limit. Deltas wrap (two's complement), so
/// any Int64 round-trips and nothing can trap. A blob that does not decode — truncated,
/// unknown version, hours out of order — is treated as absent and rebuilt from the
/// samples it was derived from (see `AppDatabase.rebuildSeries`).
struct HourlySeries: Equatable {
    struct Point: Equatable {
        /// Hours since 1970 (seconds / 3600, rounded down).
        var hour: Int64
        var usage: Int64
        var limit: Int64
    }

    static let version: UInt8 = 1
    /// A series holds one point per hour of the window (336 for 14 days); decoding stops
    /// well past any window a config allows rather than trust a blob's length blindly.
    static let maximumPoints = 24 * 400

    private(set) var points: [Point]

    init(_ points: [Point] = []) {
        self.points = points
    }

    static func hour(of time: Double) -> Int64 {
        guard time.isFinite else { return 0 }
        return Int64((time / 3600).rounded(.down).clamped(to: -9e15...9e15))
    }

    /// Adds a sample: the hour's maximum of usage and of limit, points kept in hour order.
    /// Returns whether the series changed (a new hour, or a larger usage or limit in one).
    @discardableResult
    mutating func merge(_ point: Point) -> Bool {
        if points.last.map({ $0.hour < point.hour }) ?? true {
            points.append(point)
            return true
        }
        // A sample for an hour already kept (the common case: several passes an hour), or
        // an earlier one (the clock went back): search from the end.
        var i = points.count
        while i > 0, points[i - 1].hour > point.hour { i -= 1 }
        if i > 0, points[i - 1].hour == point.hour {
            let kept = points[i - 1]
            points[i - 1].usage = max(kept.usage, point.usage)
            points[i - 1].limit = max(kept.limit, point.limit)
            return points[i - 1] != kept
        }
        points.insert(point, at: i)
        return true
    }

    /// Drops the points before `hour`; returns whether there were any.
    @discardableResult
    mutating func drop(before hour: Int64) -> Bool {
        let old = points.prefix { $0.hour < hour }.count
        points.removeFirst(old)
        return old > 0
    }

    /// The points from `hour` on, as the forecast takes them.
    func forecastPoints(from hour: Int64) -> [Forecast.Point] {
        points.lazy.filter { $0.hour >= hour }.map {
            Forecast.Point(time: Double($0.hour) * 3600, usage: Double($0.usage), limit: Double($0.limit))
        }
    }

    func encoded() -> Data {
        var bytes: [UInt8] = [Self.version]
        bytes.reserveCapacity(1 + points.count * 4)
        var previous = Point(hour: 0, usage: 0, limit: 0)
        for p in points {
            Self.appendVarint(UInt64(bitPattern: p.hour &- previous.hour), to: &bytes)
            Self.appendVarint(Self.zigzag(p.usage &- previous.usage), to: &bytes)
            Self.appendVarint(Self.zigzag(p.limit &- previous.limit), to: &bytes)
            previous = p
        }
        return Data(bytes)
    }

    /// nil when the blob is not a well-formed version-1 series.
    init?(decoding data: Data) {
        var points: [Point] = []
        let ok = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Bool in
            guard raw.first == Self.version else { return false }
            var offset = 1
            var previous = Point(hour: 0, usage: 0, limit: 0)
            while offset < raw.count {
                guard points.count < Self.maximumPoints,
                      let rise = Self.readVarint(raw, &offset), let usage = Self.readVarint(raw, &offset),
                      let limit = Self.readVarint(raw, &offset) else { return false }
                let hour = previous.hour &+ Int64(bitPattern: rise)
                // Strictly increasing hours: a point at or before the one before is corrupt.
                guard points.isEmpty || hour > previous.hour else { return false }
                previous = Point(hour: hour, usage: previous.usage &+ Self.unzigzag(usage),
                                 limit: previous.limit &+ Self.unzigzag(limit))
                points.append(previous)
            }
            return true
        }
        guard ok else { return nil }
        self.points = points
    }

    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// At most 10 bytes, the tenth carrying only the top bit: longer is corrupt.
    static func readVarint(_ raw: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < raw.count {
            let byte = raw[offset]
            offset += 1
            if shift == 63, byte > 1 { return nil }
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }
}

private extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
