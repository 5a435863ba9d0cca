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

        /// The one urgency order (higher first): stdout, digests, owner notices.
        public var urgency: Int {
            switch self {
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

    public struct Key: Sendable, Hashable, Codable {
        public var rule: Rule
        /// STORAGE, MESSAGE, … or "probe" for probe_failing.
        public var resource: String

        public init(rule: Rule, resource: String) {
            self.rule = rule
            self.resource = resource
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

        // Usage rules only move on fresh figures: a failed probe says nothing about usage.
        if o.probeOK {
            for (resource, fraction) in o.fractions.sorted(by: { $0.key < $1.key }) {
                let warning = Key(rule: .warning, resource: resource), critical = Key(rule: .critical, resource: resource)
                step(critical, active: fraction >= t.critical, clear: fraction < t.critical - t.hysteresis, value: fraction,
                     escalatedFrom: warning)
                // While critical fires, warning is implied: it is folded into critical silently
                // (the escalation notice says it all) and not announced separately.
                let criticalFiring = states[critical]?.status == .firing
                if criticalFiring, states[warning]?.status == .firing {
                    states[warning] = State(status: .ok, since: now, lastNotified: states[warning]?.lastNotified, value: fraction)
                }
                // min_free applies to STORAGE: too little room left is a warning too, and
                // it clears only with room to spare (the same hysteresis, relative).
                var lowFree = false, freeClear = true
                if resource == QuotaResourceName.storage, let minFree = t.minFreeBytes, let free = o.freeBytes {
                    lowFree = free < minFree
                    freeClear = free >= minFree * (1 + t.hysteresis)
                }
                step(warning, active: (fraction >= t.warning || lowFree) && !criticalFiring,
                     clear: fraction < t.warning - t.hysteresis && freeClear, value: fraction)
                let filling = Key(rule: .filling, resource: resource)
                let seconds = o.fullAt[resource].map { $0.timeIntervalSince(now) }
                step(filling, active: seconds.map { $0 <= t.forecastHorizonSeconds } ?? false,
                     clear: seconds.map { $0 > t.forecastHorizonSeconds } ?? true, value: seconds)
            }
        }
        let failing = Key(rule: .probeFailing, resource: "probe")
        step(failing, active: o.consecutiveFailures >= t.probeFailingRuns, clear: o.consecutiveFailures == 0,
             value: Double(o.consecutiveFailures))
        notices.sort { ($0.key.rule.urgency, $1.key.resource) > ($1.key.rule.urgency, $0.key.resource) }
        return (states, notices)
    }
}
