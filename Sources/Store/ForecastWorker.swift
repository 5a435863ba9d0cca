import Foundation
import MailGaugeCore

/// Computes forecasts on a thread of its own while the run that feeds it is still being
/// written: a pass's forecasts (Theil–Sen over each changed resource's window, a quarter of
/// a 10,000-account pass's store time when it followed the commit) overlap the inserts on
/// the second core instead of following them; the write transaction only hands series over
/// and, at its end, waits for the last few. At most `backlog` accounts wait at once, so
/// memory stays bounded whatever the run's size; the writer waits for a slot when ahead.
final class ForecastWorker: @unchecked Sendable {
    typealias Series = (root: String, resource: String, points: [Forecast.Point])

    private let queue = DispatchQueue(label: "mailgauge.forecasts", qos: .userInitiated)
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var results: [String: [AppDatabase.ComputedForecast]] = [:]
    private let now: Double
    private let options: Forecast.Options

    init(now: Double, options: Forecast.Options, backlog: Int = 64) {
        self.now = now
        self.options = options
        self.slots = DispatchSemaphore(value: backlog)
    }

    func submit(account: String, series: [Series]) {
        slots.wait()
        queue.async { [self] in
            let computed = series.map { s in
                AppDatabase.ComputedForecast(
                    forecast: StoredForecast.from(s.points, root: s.root, resource: s.resource, now: now, options: options),
                    growth: ProbeSchedule.Growth(s.points))
            }
            lock.withLock { results[account] = computed }
            slots.signal()
        }
    }

    /// The forecasts computed so far, handed over (the writer saves them as it goes, so a
    /// 10,000-account run never holds them all).
    func drain() -> [String: [AppDatabase.ComputedForecast]] {
        lock.withLock {
            defer { results = [:] }
            return results
        }
    }

    /// Waits for everything submitted; the forecasts not drained yet.
    func finish() -> [String: [AppDatabase.ComputedForecast]] {
        queue.sync {}
        return drain()
    }
}
