public import Foundation

/// Alert rules with memory: each (rule, resource) of an account is `ok`, `firing` or
/// `resolved`. A notice goes out when an alert starts firing, escalates (warning →
/// critical), repeats after `repeatInterval`, or resolves; nothing in between, so a
/// mailbox at 90 % does not send a mail every five minutes. An alert clears only once
/// usage is below its threshold minus the hysteresis margin, so usage hovering around a
/// threshold does not flap.
public enum AlertRules {
    public enum Rule: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
        case probeFailing = "probe_failing"
        case filling
        case warning
        case critical
        /// At or over the limit: the server is refusing or bouncing new mail. Its own
        /// state, stated first everywhere; critical and warning are folded into it and
        /// filling does not fire for a full resource.
        case full

        /// The one urgency order (higher first): stdout, digests, owner notices.
        public var urgency: Int {
            switch self {
            case .full: 5
            case .critical: 4
            case .filling: 3
            case .probeFailing: 2
            case .warning: 1
            }
        }

        public static func < (a: Rule, b: Rule) -> Bool { a.urgency < b.urgency }
    }

    public enum Status: String, Sendable, Hashable, Codable {
        case ok, firing, resolved
    }

    /// One alert of one account: a rule and the quota resource it judges.
    public struct Key: Sendable, Hashable, Codable, CustomStringConvertible {
        public var rule: Rule
        /// STORAGE, MESSAGE, …; nil for probe_failing, which judges the account's probes.
        public var resource: String?

        public init(rule: Rule, resource: String?) {
            self.rule = rule
            self.resource = rule == .probeFailing ? nil : resource
        }

        /// What the rule judges, as stored, sent (a label, a JSON field) and shown: the
        /// resource, or `probe` for probe_failing.
        public var subject: String { resource ?? Self.probeSubject }

        /// A key as stored or sent (`subject`).
        public init(rule: Rule, subject: String) {
            self.init(rule: rule, resource: rule == .probeFailing ? nil : subject)
        }

        /// probe_failing's subject where a resource name would stand (alert_state, notices,
        /// Alertmanager's `resource` label).
        static let probeSubject = "probe"

        /// "critical STORAGE", "probe_failing probe".
        public var description: String { "\(rule.rawValue) \(subject)" }

        /// In JSON as its description (`report --format json`'s `alerts`).
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(description)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let rule = Rule(rawValue: parts[0]) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an alert: \(text)")
            }
            self.init(rule: rule, subject: parts[1])
        }
    }

    public struct State: Sendable, Hashable, Codable {
        public var status: Status
        public var since: Date
        public var lastNotified: Date?
        public var value: Double?

        public init(status: Status, since: Date, lastNotified: Date? = nil, value: Double? = nil) {
            self.status = status
            self.since = since
            self.lastNotified = lastNotified
            self.value = value
        }
    }

    public struct Thresholds: Sendable, Hashable {
        public var warning: Double
        public var critical: Double
        public var forecastHorizonSeconds: Double
        public var hysteresis: Double
        public var probeFailingRuns: Int
        public var repeatIntervalSeconds: Double
        /// `min_free`: STORAGE free space (bytes) below which `warning` fires whatever the
        /// percentage (a 100 GiB mailbox at 79 % still has room; a 1 GiB one may not).
        public var minFreeBytes: Double?

        public init(warning: Double = 0.80, critical: Double = 0.95, forecastHorizonSeconds: Double = 7 * 86400,
                    hysteresis: Double = 0.02, probeFailingRuns: Int = 3, repeatIntervalSeconds: Double = 86400,
                    minFreeBytes: Double? = nil) {
            self.minFreeBytes = minFreeBytes
            self.warning = warning
            self.critical = critical
            self.forecastHorizonSeconds = forecastHorizonSeconds
            self.hysteresis = hysteresis
            self.probeFailingRuns = probeFailingRuns
            self.repeatIntervalSeconds = repeatIntervalSeconds
        }
    }

    /// What one run saw of an account.
    public struct Observation: Sendable, Hashable {
        /// Usage fraction per quota resource (when the probe succeeded).
        public var fractions: [String: Double]
        /// Free STORAGE bytes (limit − usage), when there is a limit.
        public var freeBytes: Double?
        /// Forecast full date per quota resource (nil: not growing / no data).
        public var fullAt: [String: Date]
        public var consecutiveFailures: Int
        public var probeOK: Bool

        public init(fractions: [String: Double], fullAt: [String: Date], consecutiveFailures: Int, probeOK: Bool,
                    freeBytes: Double? = nil) {
            self.fractions = fractions
            self.freeBytes = freeBytes
            self.fullAt = fullAt
            self.consecutiveFailures = consecutiveFailures
            self.probeOK = probeOK
        }
    }

    public struct Notice: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable { case firing, escalated, repeated, resolved }
        public var kind: Kind
        public var key: Key
        public var value: Double?
    }

    /// One rule's condition for one resource now, without memory: whether it holds
    /// (`active`), whether usage is far enough from it to resolve a firing alert (`clear`,
    /// the hysteresis), and the figure it is about.
    public struct Assessment: Sendable, Hashable {
        public var key: Key
        public var active: Bool
        public var clear: Bool
        public var value: Double?
    }

    /// Every rule's condition for an observation: the one rule engine behind alerts,
    /// notices and `check`. Usage rules only on fresh figures (a failed probe says nothing
    /// about usage); per resource in name order: full, critical, warning, filling; then
    /// probe_failing.
    public static func assess(_ o: Observation, thresholds t: Thresholds, now: Date) -> [Assessment] {
        var out: [Assessment] = []
        if o.probeOK {
            for (resource, fraction) in o.fractions.sorted(by: { $0.key < $1.key }) {
                let full = fraction >= 1
                out.append(Assessment(key: Key(rule: .full, resource: resource), active: full,
                                      clear: fraction < 1 - t.hysteresis, value: fraction))
                out.append(Assessment(key: Key(rule: .critical, resource: resource), active: fraction >= t.critical,
                                      clear: fraction < t.critical - t.hysteresis, value: fraction))
                // min_free applies to STORAGE: too little room left is a warning too, and
                // it clears only with room to spare (the same hysteresis, relative).
                var lowFree = false, freeClear = true
                if resource == QuotaResourceName.storage, let minFree = t.minFreeBytes, let free = o.freeBytes {
                    lowFree = free < minFree
                    freeClear = free >= minFree * (1 + t.hysteresis)
                }
                out.append(Assessment(key: Key(rule: .warning, resource: resource), active: fraction >= t.warning || lowFree,
                                      clear: fraction < t.warning - t.hysteresis && freeClear, value: fraction))
                let seconds = o.fullAt[resource].map { $0.timeIntervalSince(now) }
                // A full resource is not "filling": the fact that matters is already stated.
                out.append(Assessment(key: Key(rule: .filling, resource: resource),
                                      active: !full && (seconds.map { $0 <= t.forecastHorizonSeconds } ?? false),
                                      clear: seconds.map { $0 > t.forecastHorizonSeconds } ?? true, value: seconds))
            }
        }
        out.append(Assessment(key: Key(rule: .probeFailing, resource: nil), active: o.consecutiveFailures >= t.probeFailingRuns,
                              clear: o.consecutiveFailures == 0, value: Double(o.consecutiveFailures)))
        return out
    }

    /// The next states and the notices to send. Pure: the caller loads and stores states.
    public static func evaluate(previous: [Key: State], observation o: Observation, thresholds t: Thresholds,
                                now: Date) -> (states: [Key: State], notices: [Notice]) {
        var states = previous
        var notices: [Notice] = []

        /// Moves one alert: `active` says whether its condition holds, `clear` whether it
        /// is far enough below to resolve.
        func step(_ key: Key, active: Bool, clear: Bool, value: Double?, escalatedFrom: Key? = nil) {
            let old = states[key]
            let firing = old?.status == .firing
            if active && !firing {
                let escalation = escalatedFrom.map { states[$0]?.status == .firing } ?? false
                states[key] = State(status: .firing, since: now, lastNotified: now, value: value)
                notices.append(Notice(kind: escalation ? .escalated : .firing, key: key, value: value))
            } else if firing && !active && clear {
                states[key] = State(status: .resolved, since: now, lastNotified: now, value: value)
                notices.append(Notice(kind: .resolved, key: key, value: value))
            } else if firing, let last = old?.lastNotified, now.timeIntervalSince(last) >= t.repeatIntervalSeconds {
                states[key]?.lastNotified = now
                states[key]?.value = value
                notices.append(Notice(kind: .repeated, key: key, value: value))
            } else if firing {
                states[key]?.value = value
            }
        }

        /// A lesser alert is implied while a greater one fires: it is folded into it
        /// silently (the escalation notice says it all) and not announced separately.
        func fold(_ key: Key, value: Double?) {
            guard states[key]?.status == .firing else { return }
            states[key] = State(status: .ok, since: now, lastNotified: states[key]?.lastNotified, value: value)
        }

        for a in assess(o, thresholds: t, now: now) {
            let resource = a.key.resource
            let fullFiring = { states[Key(rule: .full, resource: resource)]?.status == .firing }
            switch a.key.rule {
            case .full:
                let escalatedFrom = [Key(rule: .critical, resource: resource), Key(rule: .warning, resource: resource)]
                    .first { states[$0]?.status == .firing }
                step(a.key, active: a.active, clear: a.clear, value: a.value, escalatedFrom: escalatedFrom)
            case .critical:
                if fullFiring() { fold(a.key, value: a.value) }
                step(a.key, active: a.active && !fullFiring(), clear: a.clear, value: a.value,
                     escalatedFrom: Key(rule: .warning, resource: resource))
            case .warning:
                let greaterFiring = fullFiring() || states[Key(rule: .critical, resource: resource)]?.status == .firing
                if greaterFiring { fold(a.key, value: a.value) }
                step(a.key, active: a.active && !greaterFiring, clear: a.clear, value: a.value)
            case .filling:
                if fullFiring() { fold(a.key, value: a.value) }
                step(a.key, active: a.active && !fullFiring(), clear: a.clear, value: a.value)
            case .probeFailing:
                step(a.key, active: a.active, clear: a.clear, value: a.value)
            }
        }
        notices.sort { ($0.key.rule.urgency, $1.key.subject) > ($1.key.rule.urgency, $0.key.subject) }
        return (states, notices)
    }
}
