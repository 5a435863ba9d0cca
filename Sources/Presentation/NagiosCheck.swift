public import Foundation
public import MailGaugeCore

/// `mailgauge check`: a Nagios/Icinga plugin (monitoring-plugins guidelines): one status
/// line `MAILGAUGE <STATE> - text | perfdata`, long text lines after it, and exit 0 OK,
/// 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
public enum NagiosCheck {
    public enum State: Int32, Sendable, Comparable {
        case ok = 0, warning = 1, critical = 2, unknown = 3

        public var label: String {
            switch self {
            case .ok: "OK"
            case .warning: "WARNING"
            case .critical: "CRITICAL"
            case .unknown: "UNKNOWN"
            }
        }

        /// Aggregation order CRITICAL > WARNING > UNKNOWN > OK (monitoring-plugins'
        /// max_state_alt): a known problem outranks an unknown one.
        var rank: Int {
            switch self {
            case .ok: 0
            case .unknown: 1
            case .warning: 2
            case .critical: 3
            }
        }

        public static func < (a: State, b: State) -> Bool { a.rank < b.rank }
    }

    /// What the check knows of one account.
    public struct Input: Sendable {
        public var accountID: String
        public var probeOK: Bool
        public var failure: String?
        public var seenAt: Date?
        /// Quota resources (STORAGE in KiB, others in their units).
        public var resources: [(resource: String, usage: UInt64, limit: UInt64)]
        /// What the alert rules look at (the same engine as alerts and notices).
        public var observation: AlertRules.Observation
        /// Why a figure of the latest reading is unknown (`AccountState.unknownFigures`).
        public var unknownFigures: [String] = []

        public init(accountID: String, probeOK: Bool, failure: String?, seenAt: Date?, resources: [(resource: String, usage: UInt64, limit: UInt64)],
                    observation: AlertRules.Observation, unknownFigures: [String] = []) {
            self.accountID = accountID
            self.probeOK = probeOK
            self.failure = failure
            self.seenAt = seenAt
            self.resources = resources
            self.observation = observation
            self.unknownFigures = unknownFigures
        }
    }

    public struct Output: Sendable {
        public var state: State
        public var text: String

        public init(state: State, text: String) {
            self.state = state
            self.text = text
        }
    }

    public static func input(_ s: AccountState) -> Input {
        Input(accountID: s.id, probeOK: s.lastProbeOK, failure: s.failureMessage, seenAt: s.lastSeen,
              resources: s.quota.map { ($0.resource, $0.usage, $0.limit) }, observation: AlertRules.Observation(s),
              unknownFigures: s.unknownFigures)
    }


    /// `-w` / `-c`: usage percentages that replace the config's warning and critical
    /// thresholds (min_free, full and the forecast still come from the config).
    public struct Ranges: Sendable {
        public var warning: NagiosRange?
        public var critical: NagiosRange?

        public init(warning: NagiosRange? = nil, critical: NagiosRange? = nil) {
            self.warning = warning
            self.critical = critical
        }
    }

    /// A config threshold as a range: 0.8 → "80", 0.925 → "92.5".
    static func percentText(_ fraction: Double) -> String {
        var text = SizeFormat.fixed(fraction * 100, digits: 2)
        while text.contains("."), text.last == "0" || text.last == "." { text.removeLast() }
        return text
    }

    /// Pure: the plugin output for `inputs` (missing accounts as nil).
    public static func evaluate(_ inputs: [(id: String, input: Input?)], thresholds: (String) -> AlertRules.Thresholds,
                                ranges: Ranges = Ranges(), maxAgeSeconds: Double, now: Date) -> Output {
        var states: [(String, State, String)] = []
        var perf: [String] = []
        let single = inputs.count == 1
        for (id, input) in inputs {
            guard let input else {
                states.append((id, .unknown, "\(id): no data yet (not in the database; has `mailgauge run` run?)"))
                continue
            }
            var t = thresholds(id)
            // With -w/-c, the percentages are judged by the ranges below, not by the rules.
            let warnRange = ranges.warning ?? NagiosRange(percentText(t.warning))
            let critRange = ranges.critical ?? NagiosRange(percentText(t.critical))
            if ranges.warning != nil { t.warning = .infinity }
            if ranges.critical != nil { t.critical = .infinity }
            if !input.probeOK {
                states.append((id, .unknown, "\(id): latest probe failed: \(DisplayText.line(input.failure ?? "unknown error"))"))
                continue
            }
            if let seen = input.seenAt, now.timeIntervalSince(seen) > maxAgeSeconds {
                states.append((id, .unknown, "\(id): data is stale (last probe \(Int(now.timeIntervalSince(seen) / 60)) min ago)"))
                continue
            }
            var state = State.ok
            var parts: [String] = []
            for r in input.resources.sorted(by: { $0.resource < $1.resource }) {
                let unit = r.resource == QuotaResourceName.storage ? "B" : ""
                let label = (single ? "" : "\(id)_") + r.resource.lowercased()
                let quoted = "'" + label.replacingOccurrences(of: "'", with: "''") + "'"
                // A figure that cannot be represented leaves its perfdata out (the plugin
                // guidelines' "U" is for a value that could not be determined).
                let used = Quantity.baseUnits(r.usage, resource: r.resource)
                let limit = Quantity.baseUnits(r.limit, resource: r.resource)
                if r.limit == 0 {
                    perf.append("\(quoted)=\(used.map(String.init) ?? "U")\(used == nil ? "" : unit);;;0;")
                    continue
                }
                let fraction = Double(r.usage) / Double(r.limit)
                if let used, let limit {
                    // Byte thresholds only for a plain upper bound; the percentage perfdata
                    // beside it carries the ranges as given.
                    func at(_ range: NagiosRange?) -> String {
                        range?.upperBound.flatMap { Quantity.wholeCount((Double(limit) * $0 / 100).rounded(.down)) }.map(String.init) ?? ""
                    }
                    perf.append("\(quoted)=\(used)\(unit);\(at(warnRange));\(at(critRange));0;\(limit)")
                } else {
                    perf.append("\(quoted)=U")
                }
                let pctLabel = "'" + (label + "_pct").replacingOccurrences(of: "'", with: "''") + "'"
                perf.append("\(pctLabel)=\(SizeFormat.fixed(fraction * 100, digits: 2))%;\(warnRange?.description ?? "");\(critRange?.description ?? "");0;100")
                if let critRange, critRange.alerts(fraction * 100), ranges.critical != nil {
                    state = max(state, .critical)
                } else if let warnRange, warnRange.alerts(fraction * 100), ranges.warning != nil {
                    state = max(state, .warning)
                }
                let shown = "\(SizeFormat.quota(r.usage, resource: r.resource)) of \(SizeFormat.quota(r.limit, resource: r.resource))"
                parts.append("\(r.resource) \(SizeFormat.percent(fraction)) (\(shown))")
            }
            // The state is the alert rules' verdict, without their memory: full and
            // critical are CRITICAL (full stated first); warning (including min_free) and
            // filling are WARNING.
            var fullParts: [String] = []
            for a in AlertRules.assess(input.observation, thresholds: t, now: now) where a.active {
                switch a.key.rule {
                case .full:
                    state = max(state, .critical)
                    fullParts.append("\(a.key.subject) FULL: new mail is refused")
                case .critical: state = max(state, .critical)
                case .warning:
                    state = max(state, .warning)
                    if a.value.map({ $0 < t.warning }) == true, let free = input.observation.freeBytes {
                        parts.append("only \(Quantity.wholeCount(free.rounded(.down)).map(SizeFormat.bytes) ?? "?") free")
                    }
                case .filling:
                    state = max(state, .warning)
                    if let full = a.key.resource.flatMap({ input.observation.fullAt[$0] }) {
                        let f = DateFormatter()
                        f.locale = Locale(identifier: "en_US_POSIX")
                        f.dateFormat = "yyyy-MM-dd HH:mm"
                        parts.append("full by \(f.string(from: full))")
                    }
                case .probeFailing: break  // a failed probe is UNKNOWN above
                }
            }
            parts.insert(contentsOf: fullParts, at: 0)
            if input.resources.isEmpty { parts.append("no quota limit") }
            parts += input.unknownFigures.map { DisplayText.line($0) }
            states.append((id, state, "\(id): " + parts.joined(separator: ", ")))
        }
        let worst = states.map(\.1).max() ?? .unknown
        let problems = states.filter { $0.1 != .ok }
        var text: String
        if single, let only = states.first {
            text = "MAILGAUGE \(worst.label) - \(only.2)"
        } else {
            let counts = [State.critical, .warning, .unknown].compactMap { s -> String? in
                let n = states.filter { $0.1 == s }.count
                return n == 0 ? nil : "\(n) \(s.label.lowercased())"
            }
            text = "MAILGAUGE \(worst.label) - \(states.count) accounts" + (counts.isEmpty ? ", all ok" : ": " + counts.joined(separator: ", "))
            if inputs.isEmpty { text = "MAILGAUGE UNKNOWN - no accounts configured" }
        }
        if !perf.isEmpty { text += " | " + perf.joined(separator: " ") }
        if !single {
            for p in problems.sorted(by: { ($0.1, $1.0) > ($1.1, $0.0) }) { text += "\n[\(p.1.label)] \(p.2)" }
        }
        return Output(state: inputs.isEmpty ? .unknown : worst, text: text)
    }

}
