import Foundation
import MailGaugeCore
import Testing

/// The run's alert decision as a pure function: stored states in, changes and notices out.
@Suite("alert evaluation over stored states")
struct AlertEvaluationTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func state(_ id: String, used: UInt64, limit: UInt64, ok: Bool = true, failures: Int = 0) -> AccountState {
        AccountState(id: id, user: "\(id)@example.com", server: "corp", lastSeen: now, lastSuccess: now, consecutiveFailures: failures,
                     lastProbeOK: ok, lastProbeDuration: 0.1, failureReason: ok ? nil : .auth, failureMessage: ok ? nil : "auth: no",
                     quotaStatus: .ok,
                     quota: [QuotaPoint(at: now, root: "", resource: QuotaResourceName.storage, usage: used, limit: limit, resolution: .raw)],
                     folders: [])
    }

    @Test("a new critical account gets one notice and one stored change; the same state again changes nothing")
    func memory() {
        let states = [state("carol", used: 97, limit: 100), state("alice", used: 50, limit: 100)]
        let first = AlertEvaluation.evaluate(states: states, previous: [:], thresholds: { _ in .init() }, now: now)
        #expect(first.notices.map { "\($0.accountID) \($0.notice.key.rule.rawValue) \($0.notice.kind.rawValue)" } == ["carol critical firing"])
        #expect(first.notices.first?.quota?.usage == 97)
        let previous = Dictionary(grouping: first.changes, by: \.accountID).mapValues { changes in
            Dictionary(uniqueKeysWithValues: changes.map { ($0.key, $0.state) })
        }
        let second = AlertEvaluation.evaluate(states: states, previous: previous, thresholds: { _ in .init() },
                                              now: now.addingTimeInterval(900))
        #expect(second.notices.isEmpty && second.changes.isEmpty)
    }

    @Test("the observation takes the fullest root, the earliest forecast and STORAGE free bytes")
    func observation() {
        var s = state("bob", used: 900, limit: 1000)
        s.quota.append(QuotaPoint(at: now, root: "other", resource: QuotaResourceName.storage, usage: 10, limit: 1000, resolution: .raw))
        s.forecasts = [StoredForecast(root: "", resource: QuotaResourceName.storage, fullAt: now.addingTimeInterval(86400),
                                      slopePerSecond: 1, status: .filling)]
        let o = AlertRules.Observation(s)
        #expect(o.fractions[QuotaResourceName.storage] == 0.9)
        #expect(o.fullAt[QuotaResourceName.storage] == now.addingTimeInterval(86400))
        #expect(o.freeBytes == Double(100 * 1024))
    }

    @Test("forecast outcomes map to the stored status names")
    func forecastStatus() {
        let hour = 3600.0
        let growing: [Forecast.Point] = (0..<30).map { (i: Int) -> Forecast.Point in
            Forecast.Point(time: Double(i) * hour, usage: 100 + Double(i) * 10, limit: 1000)
        }
        let f = StoredForecast.from(growing, root: "", resource: "STORAGE", now: 29 * hour, options: .init())
        #expect(f.status == .filling && f.fullAt != nil && (f.slopePerSecond ?? 0) > 0)
        let flat: [Forecast.Point] = (0..<30).map { (i: Int) -> Forecast.Point in Forecast.Point(time: Double(i) * hour, usage: 100, limit: 1000) }
        #expect(StoredForecast.from(flat, root: "", resource: "STORAGE", now: 29 * hour, options: .init()).status == .notGrowing)
        #expect(StoredForecast.from([], root: "", resource: "STORAGE", now: 0, options: .init()).status == .insufficientData)
    }
}
