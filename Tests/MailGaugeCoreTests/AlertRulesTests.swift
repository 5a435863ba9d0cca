import Foundation
@testable import MailGaugeCore
import Testing

@Suite("alert rules and states")
struct AlertRulesTests {
    typealias A = AlertRules
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let thresholds = A.Thresholds()

    /// Feeds a series of observations 15 minutes apart; returns the notices of each step.
    static func run(_ observations: [A.Observation], start: [A.Key: A.State] = [:], spacing: Double = 900) -> ([[A.Notice]], [A.Key: A.State]) {
        var states = start
        var all: [[A.Notice]] = []
        for (i, o) in observations.enumerated() {
            let r = A.evaluate(previous: states, observation: o, thresholds: thresholds, now: t0.addingTimeInterval(Double(i) * spacing))
            states = r.states
            all.append(r.notices)
        }
        return (all, states)
    }

    static func usage(_ f: Double, fullIn days: Double? = nil) -> A.Observation {
        A.Observation(fractions: ["STORAGE": f], fullAt: days.map { ["STORAGE": t0.addingTimeInterval($0 * 86400)] } ?? [:],
                      consecutiveFailures: 0, probeOK: true)
    }

    static func kinds(_ notices: [A.Notice]) -> [String] { notices.map { "\($0.kind.rawValue) \($0.key.rule.rawValue)" } }

    @Test("warning fires once, then silence, then resolves only below threshold minus hysteresis")
    func warningLifecycle() {
        let (notices, states) = Self.run([0.70, 0.81, 0.85, 0.79, 0.785, 0.77].map { Self.usage($0) })
        #expect(notices.map(Self.kinds) == [[], ["firing warning"], [], [], [], ["resolved warning"]])
        #expect(states[A.Key(rule: .warning, resource: "STORAGE")]?.status == .resolved)
    }

    @Test("escalation to critical is one notice; de-escalation resolves critical and re-fires warning")
    func escalation() {
        let (notices, _) = Self.run([0.82, 0.96, 0.97, 0.92, 0.90].map { Self.usage($0) })
        #expect(notices.map(Self.kinds) == [["firing warning"], ["escalated critical"], [],
                                            ["resolved critical", "firing warning"], []])
    }

    @Test("at or over the limit is full: it escalates from critical, folds critical and warning, and filling stays silent")
    func full() {
        let (notices, states) = Self.run([Self.usage(0.96, fullIn: 1), Self.usage(1.0, fullIn: 0), Self.usage(1.025, fullIn: 0),
                                          Self.usage(0.99), Self.usage(0.97), Self.usage(0.90)])
        // Filling is folded into full silently, like critical: full says it all.
        #expect(notices.map(Self.kinds) == [["firing critical", "firing filling"], ["escalated full"], [], [],
                                            ["resolved full", "firing critical"], ["resolved critical", "firing warning"]])
        #expect(states[A.Key(rule: .filling, resource: "STORAGE")]?.status != .firing)
    }

    @Test("a mailbox first seen over its limit fires full alone: no critical, no warning, no filling")
    func fullFromTheStart() {
        let (notices, _) = Self.run([Self.usage(1.025, fullIn: 0)])
        #expect(notices.map(Self.kinds) == [["firing full"]])
    }

    @Test("repeat after the repeat interval while still firing")
    func repeats() {
        let (notices, _) = Self.run(Array(repeating: Self.usage(0.9), count: 6), spacing: 6 * 3600)
        #expect(notices.map(Self.kinds) == [["firing warning"], [], [], [], ["repeated warning"], []])
    }

    @Test("filling fires before warning would, from the forecast")
    func filling() {
        let (notices, _) = Self.run([Self.usage(0.60, fullIn: 20), Self.usage(0.62, fullIn: 6), Self.usage(0.63, fullIn: 5), Self.usage(0.60)])
        #expect(notices.map(Self.kinds) == [[], ["firing filling"], [], ["resolved filling"]])
    }

    @Test("probe failing after N consecutive failures; usage alerts hold while probes fail")
    func probeFailing() {
        func failed(_ n: Int) -> A.Observation { A.Observation(fractions: [:], fullAt: [:], consecutiveFailures: n, probeOK: false) }
        let (notices, states) = Self.run([Self.usage(0.9), failed(1), failed(2), failed(3), failed(4), Self.usage(0.9)])
        #expect(notices.map(Self.kinds) == [["firing warning"], [], [], ["firing probe_failing"], [], ["resolved probe_failing"]])
        #expect(states[A.Key(rule: .warning, resource: "STORAGE")]?.status == .firing, "a failed probe does not clear usage alerts")
    }

    @Test("digest order: most urgent first")
    func order() {
        let o = A.Observation(fractions: ["STORAGE": 0.97, "MESSAGE": 0.85], fullAt: [:], consecutiveFailures: 0, probeOK: true)
        let r = A.evaluate(previous: [:], observation: o, thresholds: Self.thresholds, now: Self.t0)
        #expect(Self.kinds(r.notices) == ["firing critical", "firing warning"])
        #expect(r.notices.map(\.key.resource) == ["STORAGE", "MESSAGE"])
    }

    @Test("min_free: a big mailbox below the warning percentage warns when free space runs low, clears with room to spare")
    func minFree() {
        let t = A.Thresholds(minFreeBytes: 500e6)
        var states: [A.Key: A.State] = [:]
        var kinds: [[String]] = []
        // A mailbox at 60 %: only the free space moves.
        for (i, free) in [4e9, 400e6, 450e6, 505e6, 520e6].enumerated() {
            let o = A.Observation(fractions: ["STORAGE": 0.60], fullAt: [:], consecutiveFailures: 0, probeOK: true, freeBytes: free)
            let r = A.evaluate(previous: states, observation: o, thresholds: t, now: Self.t0.addingTimeInterval(Double(i) * 900))
            states = r.states
            kinds.append(Self.kinds(r.notices))
        }
        // 505 MB is above 500 MB but inside the 2 % margin: still firing; 520 MB clears.
        #expect(kinds == [[], ["firing warning"], [], [], ["resolved warning"]])
    }
}
