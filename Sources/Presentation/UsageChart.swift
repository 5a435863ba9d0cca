public import Foundation
public import MailGaugeCore

/// An account's storage over time as an inline SVG (pure): used bytes as a line, the
/// limit as a dashed line, and the forecast as a dotted line from the last reading to the
/// full date (or to the chart's edge when that lies beyond it). No script, no external
/// font: it renders the same in a browser, a mail client's attachment viewer, offline.
public enum UsageChart {
    /// One reading: used bytes, and the limit when there is one.
    public struct Point: Sendable, Hashable {
        public var at: Date
        public var usedBytes: Double
        public var limitBytes: Double?

        public init(at: Date, usedBytes: Double, limitBytes: Double?) {
            self.at = at
            self.usedBytes = usedBytes
            self.limitBytes = limitBytes
        }
    }

    static let width = 640.0, height = 220.0
    static let left = 64.0, right = 12.0, top = 12.0, bottom = 28.0
    /// Points drawn at most; a longer history is thinned by keeping each bucket's highest
    /// reading (the peaks are what matter for a quota).
    static let maxPoints = 400

    static func svg(_ points: [Point], since: Date, now: Date, fullAt: Date?, title: String) -> String {
        let drawn = thinned(points)
        // The x axis runs to now, or to the full date when it falls within half a period more.
        let span = max(now.timeIntervalSince(since), 3600)
        var end = now
        if let fullAt, fullAt > now, fullAt.timeIntervalSince(now) <= span / 2 { end = fullAt }
        let x0 = since.timeIntervalSince1970, x1 = end.timeIntervalSince1970
        let limit = drawn.compactMap(\.limitBytes).max()
        let yMax = max(limit ?? 0, drawn.map(\.usedBytes).max() ?? 0, 1) * 1.05
        func x(_ t: Double) -> Double { left + (t - x0) / (x1 - x0) * (width - left - right) }
        func y(_ v: Double) -> Double { top + (1 - v / yMax) * (height - top - bottom) }
        func f(_ v: Double) -> String { SizeFormat.fixed(v, digits: 1) }

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
        svg += "<title>\(HTML.escape(title))</title>"
        // Axes and three labelled gridlines (0, half, top).
        for fraction in [0.0, 0.5, 1.0] {
            let v = yMax / 1.05 * fraction
            svg += "<line class=\"grid\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\"/>"
            svg += "<text class=\"axis\" x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(HTML.escape(Quantity.wholeCount(v).map(SizeFormat.bytes) ?? "?"))</text>"
        }
        svg += "<text class=\"axis\" x=\"\(f(left))\" y=\"\(f(height - 8))\">\(Reports.day(since))</text>"
        svg += "<text class=\"axis\" x=\"\(f(width - right))\" y=\"\(f(height - 8))\" text-anchor=\"end\">\(Reports.day(end))</text>"
        if let limit {
            svg += "<line class=\"limit\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(limit)))\" y2=\"\(f(y(limit)))\"/>"
        }
        let coordinates = drawn.map { "\(f(x($0.at.timeIntervalSince1970))),\(f(y($0.usedBytes)))" }.joined(separator: " ")
        svg += "<polyline class=\"usage\" data-points=\"\(drawn.count)\" points=\"\(coordinates)\"/>"
        if let last = drawn.last {
            // The latest reading as a dot: visible even when the history is a few minutes long.
            svg += "<circle class=\"latest\" cx=\"\(f(x(last.at.timeIntervalSince1970)))\" cy=\"\(f(y(last.usedBytes)))\" r=\"3\"/>"
        }
        if let last = drawn.last, let fullAt, let limit, fullAt > last.at {
            // Straight from the last reading to the limit at the full date, cut at the edge.
            let t1 = min(fullAt.timeIntervalSince1970, x1)
            let fraction = (t1 - last.at.timeIntervalSince1970) / fullAt.timeIntervalSince(last.at)
            let v1 = last.usedBytes + (limit - last.usedBytes) * fraction
            svg += "<line class=\"forecast\" x1=\"\(f(x(last.at.timeIntervalSince1970)))\" y1=\"\(f(y(last.usedBytes)))\" x2=\"\(f(x(t1)))\" y2=\"\(f(y(v1)))\"/>"
        }
        return svg + "</svg>"
    }

    static func thinned(_ points: [Point]) -> [Point] {
        guard points.count > maxPoints else { return points }
        let bucket = Double(points.count) / Double(maxPoints)
        return (0..<maxPoints).compactMap { i in
            points[Int(Double(i) * bucket)..<min(points.count, Int(Double(i + 1) * bucket))].max { $0.usedBytes < $1.usedBytes }
        }
    }

}

/// HTML text escaping: everything from a server or a config (folder names, account ids,
/// certificate names) goes through it.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters (a server's) are shown, not interpreted.
                if c.value < 0x20 && c != "\t" || c.value == 0x7F { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
