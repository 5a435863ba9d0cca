import Exposition
import Foundation
import MailGaugeCore
import Store

/// Benchmarks that need no server (run by scripts/benchmark; not a test):
///   mailgauge-bench metrics [ACCOUNTS] [FOLDERS]
///   mailgauge-bench schedule [ACCOUNTS] [DAYS] [MAX_INTERVAL_HOURS] [RESERVE_PERCENT]   (see ScheduleSimulation)
/// fills a database with one run of ACCOUNTS × FOLDERS (default 10,000 × 10), then times
/// storing that run and rendering /metrics from it (all folders exported, the worst case).
@main
struct Benchmark {
    static func main() throws {
        let args = CommandLine.arguments.dropFirst()
        if args.first == "schedule" {
            var options = ProbeSchedule.Options()
            if let hours = args.dropFirst(3).first.flatMap(Double.init) { options.maxIntervalSeconds = hours * 3600 }
            if let percent = args.dropFirst(4).first.flatMap(Double.init) { options.reserveFraction = percent / 100 }
            ScheduleSimulation.run(accounts: args.dropFirst().first.flatMap(Int.init) ?? 10_000,
                                   days: args.dropFirst(2).first.flatMap(Int.init) ?? 30, options: options)
            return
        }
        guard args.first == "metrics" else {
            print("usage: mailgauge-bench metrics [ACCOUNTS] [FOLDERS] | schedule [ACCOUNTS] [DAYS] [MAX_INTERVAL_HOURS] [RESERVE_PERCENT]")
            exit(2)
        }
        let accounts = args.dropFirst().first.flatMap(Int.init) ?? 10_000
        let folders = args.dropFirst(2).first.flatMap(Int.init) ?? 10
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try AppDatabase(path: dir.appendingPathComponent("bench.sqlite").path)

        let now = Date()
        let outcomes = (0..<accounts).map { i -> AccountOutcome in
            let snapshot = MailboxSnapshot(
                quotaRoots: [QuotaRootUsage(name: "User quota", resources: [
                    ResourceUsage(resource: QuotaResourceName.storage, usage: UInt64(1000 + i), limit: 1_048_576),
                    ResourceUsage(resource: QuotaResourceName.message, usage: UInt64(i % 5000), limit: 100_000),
                ])],
                quotaStatus: .ok,
                folders: (0..<folders).map { f in
                    FolderUsage(name: "Folder \(f)", rawName: "Folder \(f)", specialUse: f == 0 ? ["\\Sent"] : [],
                                messages: UInt64(f * 10), sizeBytes: ByteCount(clamping: UInt64((f + 1) * 1000 + i)))
                },
                method: .listStatus, capabilities: [], durationSeconds: 0.05)
            let result: Result<MailboxSnapshot, ProbeFailure> = i % 100 == 99
                ? .failure(ProbeFailure(reason: .auth, message: "auth: failed")) : .success(snapshot)
            return AccountOutcome(accountID: "user\(i)@example.com", user: "user\(i)@example.com", server: "corp", at: now,
                                  durationSeconds: 0.05, result: result)
        }
        let store = try time { try database.record(startedAt: now, finishedAt: now, outcomes: outcomes) }
        print("benchmark store: one run of \(accounts) accounts x \(folders) folders written in \(format(store.seconds)) s")

        let rounds = 5
        var bestRead = Double.infinity, bestRender = Double.infinity
        var text = ""
        for _ in 0..<rounds {
            let read = try time { ExpositionInput(try database.storedState(), folders: .all, version: "bench") }
            let rendered = time { MetricsRenderer.render(read.value) }
            text = rendered.value
            bestRead = min(bestRead, read.seconds)
            bestRender = min(bestRender, rendered.seconds)
        }
        let series = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.count
        print("benchmark metrics: \(accounts) accounts x \(folders) folders -> \(series) series, \(text.utf8.count / 1024) KiB; "
              + "best of \(rounds): database read \(format(bestRead)) s + render \(format(bestRender)) s")
    }

    static func time<T>(_ body: () throws -> T) rethrows -> (value: T, seconds: Double) {
        let start = ContinuousClock.now
        let value = try body()
        let d = start.duration(to: .now)
        return (value, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    static func format(_ s: Double) -> String { SizeFormat.fixed(s, digits: 3) }
}
