import Collector
import ClientNetworking
import IMAPClient
import Logging
import MailGaugeCore
import Synchronization
import Testing

/// `RunAll`'s workers: every target once, never more than `concurrency` at a time.
@Suite("RunAll workers")
struct RunAllTests {
    /// Probes in flight, counted where a probe starts: its secret is asked for first.
    final class InFlight: Sendable {
        let state = Mutex((now: 0, most: 0, asked: [String: Int]()))

        func enter(_ id: String) {
            state.withLock { state in
                state.now += 1
                state.most = max(state.most, state.now)
                state.asked[id, default: 0] += 1
            }
        }

        func leave() { state.withLock { $0.now -= 1 } }
    }

    func targets(_ count: Int, _ inFlight: InFlight) -> [ProbeTarget] {
        let server = ProbeTarget.Server(name: "s", connection: ConnectionConfiguration(host: "127.0.0.1", port: 1, security: .implicitTLS),
                                        forcedMethod: nil)
        return (0..<count).map { index in
            let id = "a\(index)"
            return ProbeTarget(accountID: id, user: id, server: server, loginUser: id, authorizationID: nil, mechanism: .auto) {
                () async throws(ProbeFailure) -> String in
                inFlight.enter(id)
                try? await Task.sleep(for: .milliseconds(5))
                inFlight.leave()
                // Ends the probe before any connection: what is tested is the scheduling.
                throw ProbeFailure(reason: .auth, message: "no secret here")
            }
        }
    }

    @Test("every target is probed once and reported once; at most `concurrency` at a time, and that many are used",
          arguments: [1, 3, 32])
    func onceEach(concurrency: Int) async {
        let inFlight = InFlight()
        let reported = Mutex([String]())
        let outcomes = await RunAll.run(targets(100, inFlight), options: RunOptions(concurrency: concurrency, maxConnections: [:],
                                                                                   accountTimeoutSeconds: 30),
                                        logger: .init(label: "test")) { outcome in reported.withLock { $0.append(outcome.accountID) } }
        let expected = Set((0..<100).map { "a\($0)" })
        #expect(outcomes.count == 100 && Set(outcomes.map(\.accountID)) == expected)
        #expect(outcomes.allSatisfy { $0.failure?.message == "no secret here" })
        #expect(reported.withLock { $0.sorted() } == expected.sorted())
        let (most, asked) = inFlight.state.withLock { ($0.most, $0.asked) }
        #expect(asked.count == 100 && asked.values.allSatisfy { $0 == 1 })
        #expect(most <= concurrency)
        #expect(most >= min(concurrency, 2), "the workers ran side by side")
    }

    @Test("no targets: no workers, no outcomes")
    func empty() async {
        let outcomes = await RunAll.run([], options: RunOptions(concurrency: 8, maxConnections: [:], accountTimeoutSeconds: 30),
                                        logger: .init(label: "test"))
        #expect(outcomes.isEmpty)
    }
}
