/// Parsers for the value syntaxes of the config: durations (`30s`, `15m`, `7d`, `1h30m`),
/// sizes (`500M`, `2G`, `1.5T`, binary units), and percentages (`80%`).
public enum Units {
    /// Seconds, or nil. Units: ms, s, m, h, d, w; several may be chained (`1h30m`).
    public static func duration(_ text: String) -> Double? {
        let t = text.trimmingSpaces
        guard !t.isEmpty else { return nil }
        if let plain = Double(t), plain >= 0 { return plain }  // bare number: seconds
        var total = 0.0
        var number = ""
        var chars = Array(t)[...]
        while let c = chars.first {
            if c.isNumber || c == "." {
                number.append(c)
                chars = chars.dropFirst()
                continue
            }
            var unit = ""
            while let u = chars.first, u.isLetter { unit.append(u); chars = chars.dropFirst() }
            guard let value = Double(number), !unit.isEmpty else { return nil }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s": factor = 1
            case "m": factor = 60
            case "h": factor = 3600
            case "d": factor = 86400
            case "w": factor = 604_800
            default: return nil
            }
            total += value * factor
            number = ""
        }
        return number.isEmpty ? total : nil
    }

    /// Bytes, or nil. `500M` = 500 MiB; suffixes K, M, G, T (optionally with `iB`/`B`).
    public static func size(_ text: String) -> UInt64? {
        var t = text.trimmingSpaces.uppercased()
        if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
        var factor: Double = 1
        if let last = t.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4, "P": 5][String(last)] {
            factor = pow1024(power)
            t.removeLast()
        }
        guard let value = Double(t.trimmingSpaces), value >= 0, value.isFinite else { return nil }
        let bytes = value * factor
        guard bytes < 9.2e18 else { return nil }
        return UInt64(bytes.rounded())
    }

    /// A fraction in 0...1 from `80%` (or a bare `80`), or nil.
    public static func percent(_ text: String) -> Double? {
        var t = text.trimmingSpaces
        if t.hasSuffix("%") { t.removeLast() }
        guard let value = Double(t.trimmingSpaces), value >= 0, value <= 100 else { return nil }
        return value / 100
    }

    /// "30s", "15m", "24h", "366d": the largest whole unit, for error messages.
    public static func describe(seconds: Double) -> String {
        for (unit, size) in [("d", 86400.0), ("h", 3600.0), ("m", 60.0)] where seconds >= size && seconds.truncatingRemainder(dividingBy: size) == 0 {
            return "\(Int(seconds / size))\(unit)"
        }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }

    private static func pow1024(_ n: Int) -> Double {
        var v = 1.0
        for _ in 0..<n { v *= 1024 }
        return v
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
