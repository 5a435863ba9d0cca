import Foundation
import Testing

/// The node_exporter textfile after a real run: valid for promtool, and the figures of the
/// seeded accounts.
@Suite("metrics from real runs", .requires(.dovecot, .promtool))
struct MetricsAgainstDovecotTests {
    static func promtoolCheck(_ file: String) async throws -> Subprocess.Output {
        try await Subprocess.run("/bin/sh", ["-c", "promtool check metrics < '\(file)'"])
    }

    @Test("textfile after a run: promtool finds no problem; usage equals doveadm; failed account is up 0 without usage")
    func textfileAfterRun() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-metrics")
        let wrong = try TestFiles.secret("wrong", in: dir)
        let textfile = dir.appendingPathComponent("node/mailgauge.prom").path
        try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("node").path, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try """
            \(TestConfig.header(dovecot, dir: dir))
            accounts:
              - { id: alice, user: alice, password_file: \(dovecot.secretFile("alice")) }
              - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")) }
              - { id: erin, user: erin, password_file: \(dovecot.secretFile("erin")) }
              - { id: "bad \\"quoted\\" id", user: bob, password_file: \(wrong) }
            folders: { export: top, top_n: 5 }
            metrics: { textfile: \(textfile) }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        #expect(run.status == 1, "\(run.stderr)")
        let check = try await Self.promtoolCheck(textfile)
        #expect(check.status == 0 && check.stdout.isEmpty && check.stderr.isEmpty, "promtool: \(check.stdout) \(check.stderr)")
        let text = try String(contentsOfFile: textfile, encoding: .utf8)
        let quota = try await dovecot.doveadmQuota("alice").first { $0.resource == "STORAGE" }!
        #expect(text.contains("mailgauge_storage_used_bytes{account=\"alice\",quota_root=\"User quota\"} \(quota.value * 1024)\n"))
        #expect(text.contains("mailgauge_storage_limit_bytes{account=\"alice\",quota_root=\"User quota\"} \(quota.limit! * 1024)\n"))
        #expect(text.contains("mailgauge_messages_limit{account=\"carol\",quota_root=\"User quota\"} 400\n"))
        // The thresholds in force, for the Prometheus rules (the config's defaults here).
        #expect(text.contains("mailgauge_warning_ratio{account=\"alice\"} 0.8\n") && text.contains("mailgauge_critical_ratio{account=\"alice\"} 0.95\n"), "\(text)")
        #expect(text.contains("mailgauge_up{account=\"bad \\\"quoted\\\" id\"} 0\n"))
        #expect(text.contains("mailgauge_probe_failures_total{account=\"bad \\\"quoted\\\" id\",reason=\"auth\"} 1\n"))
        #expect(!text.contains("storage_used_bytes{account=\"bad"))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("mailgauge_mailbox_size_bytes{account=\"erin\"") }.count == 5)
        #expect(text.contains("mailgauge_mailbox_size_bytes{account=\"alice\",mailbox=\"Sent\",special_use=\"\\\\Sent\"}"))

        // A textfile that cannot be written: logged, non-zero exit, nothing half-written.
        try FileManager.default.removeItem(atPath: dir.appendingPathComponent("node").path)
        let failed = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("cannot write metrics textfile"), "\(failed.stderr)")
    }
}
