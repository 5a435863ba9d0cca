import ClientNetworking
import Collector
import Foundation
import Testing

/// The deadline every probe runs under, and the loop timer beneath it.
@Suite("Deadline")
struct DeadlineTests {
    /// "At once" against deadlines of an hour: anything under a minute shows the body's end
    /// (or the cancellation) was not waited past. Tighter bounds measured the machine
    /// instead — CI once started this suite 5 s late, with every other test in the process.
    static let atOnce = Duration.seconds(60)

    @Test("a body that ends in time gives its result at once, however long its deadline")
    func bodyFirst() async {
        let started = ContinuousClock.now
        let result = await Deadline.run(seconds: 3600) { 42 }
        #expect(result == 42)
        #expect(started.duration(to: .now) < Self.atOnce)
    }

    @Test("a body past its deadline is cancelled and gives nil")
    func bodyTooSlow() async {
        let started = ContinuousClock.now
        let result = await Deadline.run(seconds: 0.2) { () async -> Bool in
            await LoopTimer.sleep(seconds: 3600)
            return Task.isCancelled
        }
        #expect(result == nil)
        #expect(started.duration(to: .now) < Self.atOnce)
    }

    @Test("no time left: nil at once")
    func noTime() async {
        #expect(await Deadline.run(seconds: 0) { 1 } == nil)
        #expect(await Deadline.run(seconds: -5) { 1 } == nil)
    }

    @Test("a loop timer lasts its time, ends at once when cancelled, and takes absurd durations")
    func loopTimer() async {
        let clock = ContinuousClock()
        var started = clock.now
        await LoopTimer.sleep(seconds: 0.2)
        #expect(started.duration(to: clock.now) >= .milliseconds(190))

        started = clock.now
        let sleeper = Task { await LoopTimer.sleep(seconds: .greatestFiniteMagnitude) }
        try? await Task.sleep(for: .milliseconds(50))
        sleeper.cancel()
        await sleeper.value
        #expect(started.duration(to: clock.now) < Self.atOnce)

        // Already cancelled before it starts: returns without waiting.
        started = clock.now
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await LoopTimer.sleep(seconds: 3600)
        }
        await early.value
        #expect(started.duration(to: clock.now) < Self.atOnce)
        await LoopTimer.sleep(seconds: -.infinity)
        await LoopTimer.sleep(seconds: .nan)
    }
}
