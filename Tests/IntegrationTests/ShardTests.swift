import Foundation
import Testing

/// Two agents, one account list: `run --shard 1/2` and `--shard 2/2` probe every account
/// exactly once between them, each in its own database, each labelling its metrics.
@Suite("shards", .requires(.dovecot))
struct ShardTests {
    @Test("two shards over one list cover every account exactly once; metrics carry the shard label")
    func twoShards() async throws {
        let dovecot = try await TestDovecot.shared()
        let users = ["alice", "bob", "carol", "dave", "erin", "frank", "hank", "ivan", "mona", "oscar"]
        var reported: [[String]] = []
        for k in 1...2 {
            let dir = try TestFiles.directory("mg-shard\(k)")
            let config = try CheckAndForecastTests.config(dovecot, dir: dir, accounts: users)
            let textfile = dir.appendingPathComponent("mailgauge.prom").path
            try (try String(contentsOfFile: config, encoding: .utf8) + "\nmetrics: { textfile: \(textfile) }\n")
                .write(toFile: config, atomically: true, encoding: .utf8)
            let run = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config, "--shard", "\(k)/2"], timeoutSeconds: 120)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
            let report = try await Subprocess.run(Paths.mailgauge, ["report", "-c", config, "--format", "csv"])
            let ids = report.stdout.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }
            reported.append(ids)
            let metrics = try String(contentsOfFile: textfile, encoding: .utf8)
            let samples = metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(!samples.isEmpty && samples.allSatisfy { $0.contains("shard=\"\(k)/2\"") }, "\(metrics.prefix(400))")
        }
        #expect(Set(reported[0]).isDisjoint(with: reported[1]), "\(reported)")
        #expect(Set(reported[0] + reported[1]) == Set(users), "\(reported)")
        #expect(!reported[0].isEmpty && !reported[1].isEmpty, "both shards have work: \(reported)")
    }
}
