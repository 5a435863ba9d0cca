/// When will a quota resource be full? A robust straight line through the recent history.
///
/// - Theil–Sen slope (the median of pairwise slopes): a few odd samples (a burst of mail,
///   a quota recalculation) do not tilt it, unlike least squares.
/// - The window restarts after a large drop: once a user cleans up, growth before the
///   clean-up says nothing about growth after it.
/// - No forecast without enough samples over enough time, nor when usage is flat or
///   shrinking: "never" is a valid answer, a made-up date is not.
public enum Forecast {
    public struct Point: Sendable, Hashable {
        /// Seconds since 1970.
        public var time: Double
        public var usage: Double
        public var limit: Double

        public init(time: Double, usage: Double, limit: Double) {
            self.time = time
            self.usage = usage
            self.limit = limit
        }
    }

    public struct Options: Sendable, Hashable {
        /// How far back to look.
        public var windowSeconds: Double
        public var minimumSamples: Int
        /// The samples used must span at least this long.
        public var minimumSpanSeconds: Double
        /// A fall between two samples of more than this share of the limit restarts the window.
        public var dropFractionOfLimit: Double
        /// Growth slower than this share of the limit per day counts as flat.
        public var flatFractionPerDay: Double
        /// Pairwise slopes are computed on at most this many evenly spaced samples (120 of
        /// 14 days' 336 hours: one every 2.8 hours, 7,140 slopes instead of 56,280; the
        /// forecast was most of a pass's store time at 10,000 accounts).
        public var maximumSamples: Int

        public init(windowSeconds: Double = 14 * 86400, minimumSamples: Int = 6, minimumSpanSeconds: Double = 86400,
                    dropFractionOfLimit: Double = 0.05, flatFractionPerDay: Double = 0.0005, maximumSamples: Int = 120) {
            self.windowSeconds = windowSeconds
            self.minimumSamples = minimumSamples
            self.minimumSpanSeconds = minimumSpanSeconds
            self.dropFractionOfLimit = dropFractionOfLimit
            self.flatFractionPerDay = flatFractionPerDay
            self.maximumSamples = maximumSamples
        }
    }

    public enum Result: Sendable, Hashable {
        /// Usage reaches the limit at `time` (seconds since 1970), growing `bytesPerSecond`.
        case fullAt(time: Double, slopePerSecond: Double)
        /// Already at or over the limit.
        case full
        /// Flat or shrinking: no date.
        case notGrowing(slopePerSecond: Double)
        /// Not enough history (too few samples, too short a span, or no limit).
        case insufficientData(String)
    }

    public static func timeToFull(_ history: [Point], now: Double, options: Options = Options()) -> Result {
        let sorted = history.filter { $0.time <= now && $0.time >= now - options.windowSeconds }.sorted { $0.time < $1.time }
        guard let latest = sorted.last else { return .insufficientData("no samples in the window") }
        guard latest.limit > 0 else { return .insufficientData("no limit") }
        if latest.usage >= latest.limit { return .full }

        // Keep only what follows the last large drop.
        var start = 0
        for i in 1..<max(1, sorted.count) where sorted[i - 1].usage - sorted[i].usage > options.dropFractionOfLimit * latest.limit {
            start = i
        }
        let segment = Array(sorted[start...])
        guard segment.count >= options.minimumSamples else {
            return .insufficientData("\(segment.count) samples since \(start > 0 ? "the last clean-up" : "the window began"), need \(options.minimumSamples)")
        }
        guard latest.time - segment[0].time >= options.minimumSpanSeconds else {
            return .insufficientData("samples span less than \(Int(options.minimumSpanSeconds / 3600))h")
        }
        let sample = thin(segment, to: options.maximumSamples)
        let slope = theilSen(sample)
        guard slope * 86400 > options.flatFractionPerDay * latest.limit else { return .notGrowing(slopePerSecond: slope) }
        // Intercept: the median of the residual offsets, anchored at the latest sample's time.
        let offsets = sample.map { $0.usage - slope * ($0.time - latest.time) }
        let usageNow = median(offsets)
        let secondsLeft = (latest.limit - usageNow) / slope
        return .fullAt(time: latest.time + max(0, secondsLeft), slopePerSecond: slope)
    }

    /// Median of the slopes between every pair of samples at different times.
    static func theilSen(_ points: [Point]) -> Double {
        var slopes: [Double] = []
        slopes.reserveCapacity(points.count * (points.count - 1) / 2)
        for i in 0..<points.count {
            for j in (i + 1)..<points.count where points[j].time > points[i].time {
                slopes.append((points[j].usage - points[i].usage) / (points[j].time - points[i].time))
            }
        }
        return slopes.isEmpty ? 0 : median(slopes)
    }

    static func thin(_ points: [Point], to maximum: Int) -> [Point] {
        guard points.count > maximum, maximum > 1 else { return points }
        return (0..<maximum).map { points[Int((Double($0) * Double(points.count - 1) / Double(maximum - 1)).rounded())] }
    }

    /// The median by selection (expected linear time): Theil–Sen takes the median of up to
    /// 45,000 slopes per resource, and sorting them was most of a pass's forecast cost.
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        var v = values
        let upper = select(&v, v.count / 2)
        guard v.count % 2 == 0 else { return upper }
        // The lower middle is the largest value left of the upper one after selection.
        return (v[..<(v.count / 2)].max()! + upper) / 2
    }

    /// Rearranges `v` so that `v[k]` is the value a sort would put there, everything left of
    /// it no greater and everything right no smaller (Hoare's quickselect, median-of-three).
    static func select(_ v: inout [Double], _ k: Int) -> Double {
        var low = 0, high = v.count - 1
        while low < high {
            let mid = low + (high - low) / 2
            // Median of three as the pivot: sorted or reversed input stays linear.
            if v[mid] < v[low] { v.swapAt(mid, low) }
            if v[high] < v[low] { v.swapAt(high, low) }
            if v[high] < v[mid] { v.swapAt(high, mid) }
            let pivot = v[mid]
            var i = low, j = high
            while i <= j {
                while v[i] < pivot { i += 1 }
                while v[j] > pivot { j -= 1 }
                if i <= j {
                    v.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j { high = j } else if k >= i { low = i } else { return v[k] }
        }
        return v[k]
    }
}
