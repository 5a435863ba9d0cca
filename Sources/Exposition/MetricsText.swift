/// The Prometheus text exposition format (version 0.0.4), written by hand: mailgauge
/// renders a *state* read from the database (accounts come and go between runs, and a
/// failed account must lose its usage series), which fits a renderer better than a
/// long-lived registry of gauges such as swift-prometheus keeps.
///
/// Written into one byte buffer, sample by sample: at 10,000 accounts × 10 folders a
/// scrape is ~280,000 samples (25 MB), and building a String, a label array and an
/// escaped copy per sample cost more than reading the whole state from SQLite.
struct MetricsText {
    private(set) var bytes: [UInt8] = []
    /// Labels every sample carries (the agent's `shard`), before its own; rendered once.
    private var constantLabels: [UInt8] = []

    enum Kind: String { case gauge, counter, summary }

    init(capacity: Int = 0, constantLabels: [(String, String)] = []) {
        bytes.reserveCapacity(capacity)
        var first = true
        for (name, value) in constantLabels {
            if !first { self.constantLabels.append(UInt8(ascii: ",")) }
            first = false
            Self.appendLabel(&self.constantLabels, name, value)
        }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Another text's families after these (one rendered meanwhile on another thread).
    mutating func append(_ other: MetricsText) {
        bytes.append(contentsOf: other.bytes)
    }

    /// One metric family: HELP, TYPE, then the samples `emit` adds, in its order; nothing
    /// at all when it adds none.
    mutating func family(_ name: String, _ kind: Kind, help: String, _ emit: (inout Family) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n".utf8)
        var family = Family(name: Array(name.utf8), constantLabels: constantLabels, bytes: bytes)
        bytes = []  // the family owns the buffer while it writes (no copy on append)
        emit(&family)
        bytes = family.bytes
        if family.samples == 0 { bytes.removeSubrange(start...) }
    }

    /// The same, from samples already collected.
    mutating func family(_ name: String, _ kind: Kind, help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        family(name, kind, help: help) { f in
            for sample in samples { f.add(sample.labels, sample.value) }
        }
    }

    /// Writes the samples of one family.
    struct Family {
        let name: [UInt8]
        let constantLabels: [UInt8]
        fileprivate(set) var bytes: [UInt8]
        fileprivate(set) var samples = 0

        mutating func add(_ value: Double) { add([], value) }

        mutating func add(_ l1: (String, String), _ value: Double) {
            open()
            MetricsText.appendLabel(&bytes, l1.0, l1.1)
            close(value)
        }

        mutating func add(_ l1: (String, String), _ l2: (String, String), _ value: Double) {
            open()
            MetricsText.appendLabel(&bytes, l1.0, l1.1)
            bytes.append(UInt8(ascii: ","))
            MetricsText.appendLabel(&bytes, l2.0, l2.1)
            close(value)
        }

        mutating func add(_ l1: (String, String), _ l2: (String, String), _ l3: (String, String), _ value: Double) {
            open()
            MetricsText.appendLabel(&bytes, l1.0, l1.1)
            bytes.append(UInt8(ascii: ","))
            MetricsText.appendLabel(&bytes, l2.0, l2.1)
            bytes.append(UInt8(ascii: ","))
            MetricsText.appendLabel(&bytes, l3.0, l3.1)
            close(value)
        }

        /// `suffix`: a summary's `_sum` and `_count`.
        mutating func add(_ labels: [(String, String)], _ value: Double, suffix: String = "") {
            samples += 1
            bytes.append(contentsOf: name)
            bytes.append(contentsOf: suffix.utf8)
            if labels.isEmpty && constantLabels.isEmpty {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(UInt8(ascii: "{"))
                bytes.append(contentsOf: constantLabels)
                for (i, label) in labels.enumerated() {
                    if i > 0 || !constantLabels.isEmpty { bytes.append(UInt8(ascii: ",")) }
                    MetricsText.appendLabel(&bytes, label.0, label.1)
                }
                bytes.append(contentsOf: "} ".utf8)
            }
            MetricsText.appendValue(&bytes, value)
            bytes.append(UInt8(ascii: "\n"))
        }

        /// The name, `{` and the constant labels, ready for the sample's own.
        private mutating func open() {
            samples += 1
            bytes.append(contentsOf: name)
            bytes.append(UInt8(ascii: "{"))
            if !constantLabels.isEmpty {
                bytes.append(contentsOf: constantLabels)
                bytes.append(UInt8(ascii: ","))
            }
        }

        private mutating func close(_ value: Double) {
            bytes.append(contentsOf: "} ".utf8)
            MetricsText.appendValue(&bytes, value)
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    /// `name="value"`, the value's backslash, double quote and line feed escaped.
    static func appendLabel(_ bytes: inout [UInt8], _ name: String, _ value: String) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(contentsOf: "=\"".utf8)
        var value = value
        value.withUTF8 { utf8 in
            // Most values need no escape: copied whole.
            guard utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
                return bytes.append(contentsOf: utf8)
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
                case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\n"): bytes.append(contentsOf: "\\n".utf8)
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Integers without a fraction (byte counts stay exact up to 2^53), written digit by
    /// digit; others in Swift's shortest round-trip form.
    static func appendValue(_ bytes: inout [UInt8], _ value: Double) {
        if value.isNaN { return bytes.append(contentsOf: "NaN".utf8) }
        if value.isInfinite { return bytes.append(contentsOf: (value > 0 ? "+Inf" : "-Inf").utf8) }
        guard value == value.rounded(), abs(value) < 9.007_199_254_740_992e15 else {
            return bytes.append(contentsOf: "\(value)".utf8)
        }
        var n = Int64(value)
        if n < 0 {
            bytes.append(UInt8(ascii: "-"))
            n = -n
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            } while n > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    func escapeHelp(_ value: String) -> String {
        value.replacingAll("\\", "\\\\").replacingAll("\n", "\\n")
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
