/// Human sizes in binary units, as mail admins read quotas (1 KiB = 1024 bytes).
public enum SizeFormat {
    public static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(n) B" }
        return "\(fixed(value, digits: value < 10 ? 2 : value < 100 ? 1 : 0)) \(units[unit])"
    }

    public static func size(_ n: ByteCount) -> String {
        bytes(n.value)
    }

    /// A size, or "?" for a figure that could not be represented.
    public static func size(_ n: ByteCount?) -> String {
        n.map { bytes($0.value) } ?? "?"
    }

    /// A quota figure in its resource's unit: a size for STORAGE, a plain count otherwise;
    /// "?" when it cannot be represented.
    public static func quota(_ raw: UInt64, resource: String) -> String {
        guard let base = Quantity.baseUnits(raw, resource: resource) else { return "?" }
        return resource == QuotaResourceName.storage ? bytes(base) : "\(base)"
    }

    /// A count with thousands grouped: "9,620".
    public static func count(_ n: UInt64) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }

    public static func percent(_ fraction: Double) -> String {
        "\(fixed(fraction * 100, digits: 1)) %"
    }

    /// Fixed-point formatting without Foundation's locale-dependent String(format:).
    public static func fixed(_ value: Double, digits: Int) -> String {
        // Beyond 2^53 a Double has no fraction digits left, and beyond 2^64 the integer
        // conversion below would trap: print such values as Swift does.
        guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = UInt64(scaled / scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let frac = UInt64(scaled) - whole * UInt64(scale)
            let fracText = String(frac)
            text += "." + String(repeating: "0", count: digits - fracText.count) + fracText
        }
        return text
    }
}

/// The one order of folders by size: largest first, an unknown size (too large to be
/// represented) before every known one, ties by name so the order is stable.
public enum SizeOrder {
    public static func largerFirst(_ a: (size: ByteCount?, name: String), _ b: (size: ByteCount?, name: String)) -> Bool {
        switch (a.size, b.size) {
        case (nil, nil): return a.name < b.name
        case (nil, _): return true
        case (_, nil): return false
        case (let x?, let y?): return x != y ? x > y : a.name < b.name
        }
    }
}
