@testable import MailGaugeCore
import Testing

@Suite("forecast: time to full")
struct ForecastTests {
    static let day = 86400.0
    static let now = 1_800_000_000.0
    static let limit = 10_000.0

    /// Samples every 6 hours over `days`, ending now.
    static func series(days: Double, _ usage: (Double) -> Double, limit: (Double) -> Double = { _ in ForecastTests.limit }) -> [Forecast.Point] {
        stride(from: now - days * day, through: now, by: day / 4).map { t in
            Forecast.Point(time: t, usage: usage(t), limit: limit(t))
        }
    }

    func fullAt(_ result: Forecast.Result) -> Double? {
        if case .fullAt(let t, _) = result { return t }
        return nil
    }

    @Test("linear growth: the exact crossing")
    func linear() throws {
        // 100 units a day, 5,000 now: full in 50 days.
        let r = Forecast.timeToFull(Self.series(days: 10) { 5000 + ($0 - Self.now) / Self.day * 100 }, now: Self.now)
        let t = try #require(fullAt(r))
        #expect(abs(t - (Self.now + 50 * Self.day)) < 1)
    }

    @Test("noise and outliers barely move it")
    func noise() throws {
        var rng = SplitMix64(seed: 42)
        var points = Self.series(days: 14) { 5000 + ($0 - Self.now) / Self.day * 100 + Double(rng.next() % 200) - 100 }
        points[10].usage += 3000  // a one-off burst
        points[30].usage -= 250   // small dip, not a clean-up
        let t = try #require(fullAt(Forecast.timeToFull(points, now: Self.now)))
        #expect(abs(t - (Self.now + 50 * Self.day)) < 3 * Self.day, "\((t - Self.now) / Self.day) days")
    }

    @Test("saw-tooth clean-ups restart the window")
    func sawTooth() throws {
        // Grows 300/day, cleaned up every 4 days (drop to 2,000); last clean-up 3 days ago.
        let points = Self.series(days: 14) { t in
            let sinceCleanup = (t - (Self.now - 3 * Self.day)).truncatingRemainder(dividingBy: 4 * Self.day)
            let phase = sinceCleanup < 0 ? sinceCleanup + 4 * Self.day : sinceCleanup
            return 2000 + phase / Self.day * 300
        }
        let t = try #require(fullAt(Forecast.timeToFull(points, now: Self.now)))
        // Now at 2,900 growing 300/day: full in (10,000 - 2,900) / 300 days.
        #expect(abs(t - (Self.now + 7100 / 300 * Self.day)) < Self.day / 2)
        // With only a few samples since the clean-up, no forecast yet.
        let fresh = points.filter { $0.time <= Self.now - 2.5 * Self.day }
        if case .insufficientData(let why) = Forecast.timeToFull(fresh, now: Self.now - 2.5 * Self.day) {
            #expect(why.contains("since the last clean-up"))
        } else {
            Issue.record("forecast from too few samples after a clean-up")
        }
    }

    @Test("flat and shrinking usage: no date")
    func notGrowing() {
        if case .notGrowing = Forecast.timeToFull(Self.series(days: 7) { _ in 6000 }, now: Self.now) {} else { Issue.record("flat") }
        if case .notGrowing = Forecast.timeToFull(Self.series(days: 7) { 6000 - ($0 - Self.now + 7 * Self.day) / Self.day * 10 }, now: Self.now) {} else {
            Issue.record("shrinking")
        }
        // Growth of 1 unit a day on 10,000 is flat for practical purposes.
        if case .notGrowing = Forecast.timeToFull(Self.series(days: 7) { 6000 + ($0 - Self.now) / Self.day }, now: Self.now) {} else {
            Issue.record("negligible growth")
        }
    }

    @Test("too few samples, too short a span, no limit, already full")
    func insufficient() {
        let three = Array(Self.series(days: 10) { 5000 + ($0 - Self.now) / Self.day * 100 }.suffix(3))
        if case .insufficientData = Forecast.timeToFull(three, now: Self.now) {} else { Issue.record("three samples") }
        let short = (0..<20).map { Forecast.Point(time: Self.now - Double($0) * 600, usage: 5000 - Double($0), limit: Self.limit) }
        if case .insufficientData(let why) = Forecast.timeToFull(short, now: Self.now) { #expect(why.contains("span")) } else { Issue.record("short span") }
        let unlimited = Self.series(days: 7, { $0 / 1e6 }, limit: { _ in 0 })
        if case .insufficientData = Forecast.timeToFull(unlimited, now: Self.now) {} else { Issue.record("no limit") }
        #expect(Forecast.timeToFull(Self.series(days: 7) { _ in 10_500 }, now: Self.now) == .full)
        #expect(Forecast.timeToFull([], now: Self.now) == .insufficientData("no samples in the window"))
    }

    @Test("a limit raised mid-window: the crossing uses the current limit")
    func limitChange() throws {
        let points = Self.series(days: 10, { 5000 + ($0 - Self.now) / Self.day * 100 },
                                 limit: { $0 < Self.now - 5 * Self.day ? 8000 : 20_000 })
        let t = try #require(fullAt(Forecast.timeToFull(points, now: Self.now)))
        #expect(abs(t - (Self.now + 150 * Self.day)) < 1)
    }

    @Test("history older than the window is ignored")
    func window() throws {
        // Fast growth long ago, slow growth in the last 14 days.
        let old = Self.series(days: 30) { 1000 + ($0 - Self.now + 30 * Self.day) / Self.day * 1000 }.filter { $0.time < Self.now - 15 * Self.day }
        let recent = Self.series(days: 14) { 5000 + ($0 - Self.now) / Self.day * 100 }
        let t = try #require(fullAt(Forecast.timeToFull(old + recent, now: Self.now)))
        #expect(abs(t - (Self.now + 50 * Self.day)) < 1)
    }

    @Test("the median by selection equals the median of the sorted values")
    func medianBySelection() {
        var rng = SplitMix64(seed: 7)
        for count in [1, 2, 3, 4, 5, 10, 11, 100, 1001, 4000] {
            for shape in 0..<4 {
                let values: [Double] = (0..<count).map { i in
                    switch shape {
                    case 0: Double(rng.next() % 1000) / 7  // many duplicates
                    case 1: Double(i)  // sorted
                    case 2: Double(count - i)  // reversed
                    default: Double(rng.next() % 3)  // almost all equal
                    }
                }
                let sorted = values.sorted()
                let expected = count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
                #expect(Forecast.median(values) == expected, "count \(count), shape \(shape)")
            }
        }
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
