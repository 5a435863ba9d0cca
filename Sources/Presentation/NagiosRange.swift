/// A threshold range in the monitoring-plugins syntax, `[@][start:][end]`: `10` alerts
/// outside 0…10, `10:` below 10, `~:10` above 10, `10:20` outside 10…20, `@10:20` inside
/// it. For `check` the values are usage percentages; a trailing `%` is allowed.
public struct NagiosRange: Sendable, Hashable, CustomStringConvertible {
    public var start: Double
    public var end: Double
    /// `@`: alert inside the range instead of outside.
    public var inside: Bool
    public let description: String

    public init?(_ text: String) {
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        description = String(rest)
        inside = rest.first == "@"
        if inside { rest = rest.dropFirst() }
        if rest.last == "%" { rest = rest.dropLast() }
        func number(_ s: Substring) -> Double? {
            guard let v = Double(s), v.isFinite else { return nil }
            return v
        }
        if let colon = rest.firstIndex(of: ":") {
            let head = rest[..<colon], tail = rest[rest.index(after: colon)...]
            if head == "~" {
                start = -.infinity
            } else if head.isEmpty {
                start = 0
            } else if let v = number(head) {
                start = v
            } else {
                return nil
            }
            if tail.isEmpty {
                end = .infinity
            } else if let v = number(tail) {
                end = v
            } else {
                return nil
            }
        } else {
            guard let v = number(rest) else { return nil }
            start = 0
            end = v
        }
        guard start <= end else { return nil }
    }

    /// Whether `value` raises the alert.
    public func alerts(_ value: Double) -> Bool {
        let within = value >= start && value <= end
        return inside ? within : !within
    }

    /// The percentage at which usage first alerts, for byte perfdata: only for a plain
    /// upper bound (`N` or `0:N`), the usual form for usage.
    public var upperBound: Double? {
        !inside && start == 0 && end.isFinite ? end : nil
    }
}
