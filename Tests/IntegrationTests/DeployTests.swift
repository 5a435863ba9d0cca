import Foundation
import Testing

/// The shipped Prometheus rules pass promtool's checks and unit tests.
@Suite("deploy files")
struct DeployTests {
    @Test("promtool check rules and promtool test rules")
    func prometheusRules() throws {
        let dir = Paths.repository.appendingPathComponent("deploy/prometheus").path
        let check = try Subprocess.run("/usr/bin/promtool", ["check", "rules", "\(dir)/mailgauge.rules.yml"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 8 rules found"))
        let test = try Subprocess.run("/usr/bin/promtool", ["test", "rules", "\(dir)/mailgauge.rules.test.yml"])
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains("SUCCESS"))
    }
}
