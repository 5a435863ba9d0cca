/// The Prometheus text exposition format (version 0.0.4), written by hand: mailgauge
/// renders a *state* read from the database (accounts come and go between runs, and a
/// failed account must lose its usage series), which fits a renderer better than a
/// long-lived registry of gauges such as swift-prometheus keeps.
struct MetricsText {
    private(set) var text = ""
    /// Labels every sample carries (the agent's `shard`), before its own.
    var constantLabels: [(String, String)] = []

    enum Kind: String { case gauge, counter }

    /// One metric family: HELP, TYPE, then its samples in the order given.
    mutating func family(_ name: String, _ kind: Kind, help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
        guard !samples.isEmpty else { return }
        text += "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        for sample in samples {
            text += name
            let labels = constantLabels + sample.labels
            if !labels.isEmpty {
                text += "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            }
            text += " " + format(sample.value) + "\n"
        }
    }

    /// Label values: backslash, double quote and line feed escaped.
    func escapeLabel(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    func escapeHelp(_ value: String) -> String {
        value.replacingAll("\\", "\\\\").replacingAll("\n", "\\n")
    }

    /// Integers without a fraction (byte counts stay exact up to 2^53), others in Swift's
    /// shortest round-trip form.
    func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9.007_199_254_740_992e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
