import Foundation
import Testing

/// Alert memory across real runs: one notice per problem, none repeated on the next run.
@Suite("alerts over real runs", .requires(.dovecot))
struct AlertsAgainstDovecotTests {
    @Test("stdout notices: critical and warning once, probe_failing after N failures, silence after")
    func stdoutNotices() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-alerts")
        let wrong = try TestFiles.secret("wrong", in: dir)
        let config = dir.appendingPathComponent("mailgauge.yml").path
        func write(format: String) throws {
            try """
                \(TestConfig.header(dovecot, dir: dir))
                accounts:
                  - { id: alice, user: alice, password_file: \(dovecot.secretFile("alice")) }
                  - { id: frank, user: frank, password_file: \(dovecot.secretFile("frank")) }
                  - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")) }
                  - { id: locked, user: dave, password_file: \(wrong) }
                alerts: { probe_failing_runs: 2, stdout_format: \(format) }
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }
        try write(format: "text")
        func alerts(_ out: Subprocess.Output) -> [String] {
            out.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("ALERT") || $0.hasPrefix("{") }
        }
        let frank = try await dovecot.doveadmQuota("frank").first { $0.resource == "STORAGE" }!
        let percent = (Double(frank.value) / Double(frank.limit!) * 1000).rounded() / 10
        let warningFigure = "\(percent) %"
        let first = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(alerts(first).map { $0.replacingAll(" (", with: "|").split(separator: "|")[0] } == [
            "ALERT firing critical carol STORAGE: 97.3 %",
            "ALERT firing warning frank STORAGE: \(warningFigure)",
        ], "\(first.stdout)")
        let second = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(alerts(second) == ["ALERT firing probe_failing locked probe: 2 failed runs in a row"], "\(second.stdout)")
        try write(format: "json")
        let third = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
        #expect(alerts(third).isEmpty, "nothing new: \(third.stdout)")
        // Usage drops below warning minus hysteresis: a resolved notice, as a JSON line.
        try await dovecot.setQuotaLimit("frank", kib: 100_000)
        try write(format: "text")  // --alerts-format overrides the config
        let fourth = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config, "--alerts-format", "json"], timeoutSeconds: 120)
        let lines = alerts(fourth)
        #expect(lines.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data((lines.first ?? "{}").utf8)) as? [String: Any]
        #expect(object?["kind"] as? String == "resolved" && object?["account"] as? String == "frank" && object?["rule"] as? String == "warning")
    }
}
