@testable import Exposition
import Foundation
import MailGaugeCore
import Testing

@Suite("metrics rendering")
struct MetricsRendererTests {
    static let t = Date(timeIntervalSince1970: 1_800_000_000)

    static func state(_ id: String, ok: Bool, folders: Int = 3) -> AccountState {
        AccountState(
            id: id, user: "\(id)@x", server: "corp", lastSeen: t, lastSuccess: t.addingTimeInterval(ok ? 0 : -900),
            consecutiveFailures: ok ? 0 : 2, lastProbeOK: ok, lastProbeDuration: 0.25,
            failureReason: ok ? nil : .auth, failureMessage: ok ? nil : "auth: login failed", quotaStatus: ok ? .ok : nil,
            quota: [QuotaPoint(at: t, root: "User quota", resource: "STORAGE", usage: 2512, limit: 5000, resolution: .raw),
                    QuotaPoint(at: t, root: "User quota", resource: "MESSAGE", usage: 10, limit: 400, resolution: .raw),
                    QuotaPoint(at: t, root: "User quota", resource: "MAILBOX", usage: 3, limit: 100, resolution: .raw)],
            folders: (0..<folders).map(folder))
    }

    static func folder(_ i: Int) -> FolderPoint {
        let special: [String] = i == 0 ? ["\\Sent"] : []
        return FolderPoint(at: t, name: "F\(i)", specialUse: special, messages: UInt64(i), sizeBytes: ByteCount(clamping: UInt64(100 * (i + 1))))
    }

    static func input(_ states: [AccountState], folders: ExpositionInput.FolderExport = .top(2)) -> ExpositionInput {
        ExpositionInput(states: states, failureCounts: ["bob": ["auth": 2, "timeout": 1]],
                        lastRun: RunInfo(id: 7, startedAt: t, finishedAt: t.addingTimeInterval(12.5), accounts: 2, failures: 1),
                        folders: folders, version: "0.1.0")
    }

    @Test("usage in bytes, up, failure counters; a failed account exports no usage")
    func values() {
        var alice = Self.state("alice", ok: true)
        alice.forecasts = [StoredForecast(root: "User quota", resource: "STORAGE", fullAt: Self.t.addingTimeInterval(86400 * 23),
                                          slopePerSecond: 0.001, status: .filling),
                           StoredForecast(root: "User quota", resource: "MESSAGE", fullAt: nil, slopePerSecond: 0, status: .notGrowing)]
        var bob = Self.state("bob", ok: false)
        bob.forecasts = alice.forecasts
        let text = MetricsRenderer.render(Self.input([alice, bob]))
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains("mailgauge_storage_used_bytes{account=\"alice\",quota_root=\"User quota\"} 2572288"))
        #expect(lines.contains("mailgauge_storage_limit_bytes{account=\"alice\",quota_root=\"User quota\"} 5120000"))
        #expect(lines.contains("mailgauge_messages{account=\"alice\",quota_root=\"User quota\"} 10"))
        #expect(lines.contains("mailgauge_quota_resource_limit{account=\"alice\",quota_root=\"User quota\",resource=\"MAILBOX\"} 100"))
        #expect(lines.contains("mailgauge_up{account=\"alice\"} 1") && lines.contains("mailgauge_up{account=\"bob\"} 0"))
        #expect(lines.contains("mailgauge_probe_failures_total{account=\"bob\",reason=\"auth\"} 2"))
        #expect(lines.contains("mailgauge_last_success_timestamp_seconds{account=\"bob\"} 1799999100"))
        #expect(lines.contains("mailgauge_run_duration_seconds 12.5") && lines.contains("mailgauge_run_timestamp_seconds 1800000013"))
        #expect(lines.contains("# TYPE mailgauge_probe_failures_total counter"))
        #expect(!text.contains("account=\"bob\",quota_root"), "no stale usage for a failed account")
        #expect(!text.contains("mailbox_size_bytes{account=\"bob\""))
        #expect(lines.contains("mailgauge_build_info{version=\"0.1.0\"} 1"))
        #expect(lines.contains("mailgauge_storage_full_forecast_timestamp_seconds{account=\"alice\",quota_root=\"User quota\"} 1801987200"))
        #expect(!text.contains("forecast_timestamp_seconds{account=\"bob\""), "no forecast for a failing account")
    }

    @Test("folder export: none, top N by size, all")
    func folderPolicy() {
        let s = [Self.state("alice", ok: true, folders: 5)]
        let count = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("mailgauge_mailbox_size_bytes{") }.count }
        #expect(count(MetricsRenderer.render(Self.input(s, folders: .none))) == 0)
        let top = MetricsRenderer.render(Self.input(s, folders: .top(2)))
        #expect(count(top) == 2)
        #expect(top.contains("mailbox=\"F4\"") && top.contains("mailbox=\"F3\"") && !top.contains("mailbox=\"F0\""))
        #expect(count(MetricsRenderer.render(Self.input(s, folders: .all))) == 5)
        #expect(top.contains("mailgauge_mailbox_size_bytes{account=\"alice\",mailbox=\"F3\",special_use=\"\"} 400"))
    }

    @Test("label values are escaped; output is deterministic")
    func escapingAndOrder() {
        var odd = Self.state("a\"b\\c\nd", ok: true, folders: 1)
        odd.folders[0].name = "归档/\"x\""
        let text = MetricsRenderer.render(Self.input([odd, Self.state("alice", ok: true)], folders: .all))
        #expect(text.contains("account=\"a\\\"b\\\\c\\nd\""))
        #expect(text.contains("mailbox=\"归档/\\\"x\\\"\""))
        let again = MetricsRenderer.render(Self.input([Self.state("alice", ok: true), odd], folders: .all))
        #expect(text == again)
    }

    @Test("textfile: written whole, replaced atomically, error when the directory is missing")
    func textfile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-tf-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("mailgauge.prom").path
        try Textfile.write("a 1\n", to: path)
        try Textfile.write("b 2\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "b 2\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["mailgauge.prom"], "no temp files left")
        #expect(throws: Textfile.WriteError.self) { try Textfile.write("x", to: dir.path + "/missing/dir/m.prom") }
    }
}
