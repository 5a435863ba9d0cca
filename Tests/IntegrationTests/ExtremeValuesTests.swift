import Foundation
import ScriptedServer
import Testing

/// Extreme but legal server numbers (RFC 9051 number64: 0…2^63−1) driven through probe →
/// store → every output: no command may trap, the metrics stay promtool-clean, and a
/// figure that cannot be represented in bytes is unknown, never wrapped.
@Suite("extreme server numbers through every output", .serialized, .requires(.promtool))
struct ExtremeValuesTests {
    static let max63: UInt64 = 9_223_372_036_854_775_807

    /// One scripted server per account; each answers with the figures given.
    struct Figures: Sendable {
        var id: String
        var storage: (UInt64, UInt64)?
        var messages: (UInt64, UInt64)?
        /// STATUS SIZE per folder (LIST-STATUS); nil: no STATUS=SIZE, sizes by FETCH.
        var folderSizes: [UInt64]?
        /// RFC822.SIZE of each message in INBOX (the FETCH path).
        var messageSizes: [UInt64] = []
    }

    static let cases: [Figures] = [
        Figures(id: "zero", storage: (0, 0), messages: (0, 0), folderSizes: [0, 0]),
        // 2^43 KiB = 2^53 bytes: the largest byte count a Double holds exactly.
        Figures(id: "p43", storage: (1 << 43, (1 << 43) + 1), messages: (1 << 53, 1 << 53), folderSizes: [1 << 53, 1]),
        Figures(id: "p53", storage: (1 << 53, (1 << 53) + 1), messages: (1 << 53, 1 << 53), folderSizes: [1 << 53, 1]),
        Figures(id: "p54", storage: (1 << 54, 1 << 54), messages: ((1 << 54) + 1, 1 << 54), folderSizes: [1 << 54, 1 << 54]),
        // 2^60 KiB (the issue's crash) and 2^63-1 KiB: not representable in bytes.
        Figures(id: "p60", storage: (1 << 60, 1 << 61), messages: (1, 2), folderSizes: [max63, max63]),
        Figures(id: "max", storage: (max63, max63), messages: (max63, max63), folderSizes: [max63, max63, max63]),
        // Three messages of 2^63-1 bytes: the sum overflows.
        Figures(id: "sum", storage: nil, messages: nil, folderSizes: nil, messageSizes: [max63, max63, max63]),
    ]

    /// "name{labels}" → value, from the text format.
    static func series(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }

    static func responder(_ f: Figures) -> ScriptedIMAPServer.Responder {
        let statusSize = f.folderSizes != nil
        let caps = "IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN" + (f.storage != nil ? " QUOTA" : "")
            + (statusSize ? " STATUS=SIZE LIST-STATUS SPECIAL-USE" : "")
        return { _, verb, _ in
            switch verb {
            case "CAPABILITY": return "* CAPABILITY \(caps)\r\n$TAG OK\r\n"
            case "AUTHENTICATE", "LOGIN": return "$TAG OK [CAPABILITY \(caps)] in\r\n"
            case "GETQUOTAROOT":
                var resources: [String] = []
                if let s = f.storage { resources.append("STORAGE \(s.0) \(s.1)") }
                if let m = f.messages { resources.append("MESSAGE \(m.0) \(m.1)") }
                return "* QUOTAROOT INBOX \"\"\r\n* QUOTA \"\" (\(resources.joined(separator: " ")))\r\n$TAG OK\r\n"
            case "LIST":
                guard let sizes = f.folderSizes else { return "* LIST () \"/\" INBOX\r\n$TAG OK\r\n" }
                let lines = sizes.enumerated().map { i, size in
                    let name = i == 0 ? "INBOX" : "F\(i)"
                    return "* LIST (\(i == 1 ? "\\Trash" : "")) \"/\" \(name)\r\n* STATUS \(name) (MESSAGES \(size) SIZE \(size))\r\n"
                }
                return lines.joined() + "$TAG OK\r\n"
            case "EXAMINE": return "* \(f.messageSizes.count) EXISTS\r\n$TAG OK [READ-ONLY] done\r\n"
            case "FETCH":
                return f.messageSizes.enumerated().map { "* \($0.offset + 1) FETCH (RFC822.SIZE \($0.element))\r\n" }.joined()
                    + "$TAG OK\r\n"
            case "LOGOUT": return "* BYE\r\n$TAG OK\r\n"
            default: return "$TAG OK\r\n"
            }
        }
    }

    @Test("0, 2^53, 2^54, 2^60 KiB, 2^63-1 and overflowing sums: run, report, history, check and metrics never trap")
    func extremeValues() async throws {
        let dir = try TestFiles.directory("mg-extreme")
        var servers: [ScriptedIMAPServer] = []
        defer { for s in servers { Task { await s.close() } } }
        for f in Self.cases { servers.append(try await ScriptedIMAPServer(greeting: "* OK ready\r\n", respond: Self.responder(f))) }
        let secret = try TestFiles.secret("pw", in: dir)
        let textfile = dir.appendingPathComponent("mailgauge.prom").path
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try """
            database: \(dir.path)/mailgauge.sqlite
            servers:
            \(zip(Self.cases, servers).map { "  \($0.id): { host: 127.0.0.1, port: \($1.port), tls: none, timeout: 5s }" }.joined(separator: "\n"))
            accounts:
            \(Self.cases.map { "  - { id: \($0.id), user: \($0.id), server: \($0.id), password_file: \(secret) }" }.joined(separator: "\n"))
            metrics: { textfile: \(textfile) }
            folders: { export: all }
            alerts: { stdout: true }
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let mailgauge = Paths.mailgauge
        for round in 0..<2 {  // the second run reads what the first stored (alerts with memory, forecasts)
            let run = try await Subprocess.run(mailgauge, ["run", "-c", config], timeoutSeconds: 60)
            #expect(run.status == 0, "round \(round): \(run.stderr)")
        }
        let metrics = try String(contentsOfFile: textfile, encoding: .utf8)
        let promtool = try await Subprocess.run("/bin/sh", ["-c", "promtool check metrics < \(textfile)"])
        #expect(promtool.status == 0, "\(promtool.stdout)\(promtool.stderr)")
        // Representable figures are exact; the others are absent, never wrapped.
        let series = Self.series(metrics)
        for f in Self.cases {
            let labels = "{account=\"\(f.id)\",quota_root=\"\"}"
            if let (used, limit) = f.storage {
                let fits = { (kib: UInt64) in kib <= Self.max63 / 1024 }
                #expect(series["mailgauge_storage_used_bytes\(labels)"] == (fits(used) ? Double(used * 1024) : nil), "\(f.id)")
                #expect(series["mailgauge_storage_limit_bytes\(labels)"] == (fits(limit) ? Double(limit * 1024) : nil), "\(f.id)")
            }
            if let (used, limit) = f.messages {
                #expect(series["mailgauge_messages\(labels)"] == Double(used), "\(f.id)")
                #expect(series["mailgauge_messages_limit\(labels)"] == Double(limit), "\(f.id)")
            }
        }
        // An overflowing sum is unknown: no sample (never 2^63-1, which looks real); the
        // folder's message count and the account's other series are unaffected.
        #expect(series["mailgauge_mailbox_size_bytes{account=\"sum\",mailbox=\"INBOX\",special_use=\"\"}"] == nil, "no sample for an unknown size")
        #expect(series["mailgauge_mailbox_messages{account=\"sum\",mailbox=\"INBOX\",special_use=\"\"}"] == 3)
        #expect(!metrics.contains("9223372036854775807"), "no figure held at 2^63-1")
        for id in Self.cases.map(\.id) { #expect(metrics.contains("mailgauge_up{account=\"\(id)\"} 1"), "\(id)") }

        for format in ["table", "json", "csv", "html"] {
            let report = try await Subprocess.run(mailgauge, ["report", "-c", config, "--format", format])
            #expect(report.status == 0, "report \(format): \(report.stderr)")
        }
        let table = try await Subprocess.run(mailgauge, ["report", "-c", config])
        let p60 = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("p60 ") || $0.contains(" p60 ") })
        #expect(p60.contains("?"), "an unrepresentable figure shows as ?: \(p60)")
        let json = try await Subprocess.run(mailgauge, ["report", "-c", config, "--format", "json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let maxRow = try #require(rows.first { $0["account"] as? String == "max" })
        #expect(maxRow["used_bytes"] == nil, "unknown is absent in JSON: \(maxRow)")
        for id in Self.cases.map(\.id) {
            for format in ["table", "json", "csv"] {
                let history = try await Subprocess.run(mailgauge, ["history", "-c", config, id, "--format", format])
                #expect(history.status == 0, "history \(id) \(format): \(history.stderr)")
            }
            let folders = try await Subprocess.run(mailgauge, ["history", "-c", config, id, "--folders"])
            #expect(folders.status == 0, "history --folders \(id): \(folders.stderr)")
        }
        // The unknown size through every output of the "sum" account.
        let sumServer = servers[try #require(Self.cases.firstIndex { $0.id == "sum" })]
        let probeArgs = ["probe", "imap://sum@127.0.0.1:\(sumServer.port)", "--password-file", secret, "--insecure-plaintext"]
        let probe = try await Subprocess.run(mailgauge, probeArgs + ["--json"])
        #expect(probe.status == 0, "\(probe.stderr)")
        let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any])
        let inbox = try #require((snapshot["folders"] as? [[String: Any]])?.first)
        #expect(inbox["size_bytes"] is NSNull && inbox["messages"] as? Int == 3, "null, not 2^63-1: \(inbox)")
        let probeTable = try await Subprocess.run(mailgauge, probeArgs)
        #expect(probeTable.stdout.contains("Unknown: size of folder \"INBOX\" unknown") && !probeTable.stdout.contains("8.0 EiB"), "\(probeTable.stdout)")
        let sumRow = try #require(rows.first { $0["account"] as? String == "sum" })
        #expect(sumRow["unknown_figures"] as? [String] == ["size of folder \"INBOX\" unknown: its messages' sizes add up past 2^63-1 bytes"], "\(sumRow)")
        #expect(table.stdout.contains("Unknown figures (shown as ?):\n") && table.stdout.contains("\n  sum: size of folder \"INBOX\" unknown"), "\(table.stdout)")
        let p60Row = try #require(rows.first { $0["account"] as? String == "p60" })
        #expect(p60Row["unknown_figures"] as? [String] == ["total size of the folders unknown: their sizes add up past 2^63-1 bytes"], "\(p60Row)")
        let folderJSON = try await Subprocess.run(mailgauge, ["history", "-c", config, "sum", "--folders", "--format", "json"])
        let points = try #require(try JSONSerialization.jsonObject(with: Data(folderJSON.stdout.utf8)) as? [[String: Any]])
        #expect(!points.isEmpty && points.allSatisfy { $0["size_bytes"] is NSNull }, "\(folderJSON.stdout)")
        let folderTable = try await Subprocess.run(mailgauge, ["history", "-c", config, "sum", "--folders"])
        #expect(folderTable.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix("?") }, "\(folderTable.stdout)")
        let html = try await Subprocess.run(mailgauge, ["report", "-c", config, "--format", "html"])
        #expect(html.stdout.contains("<td class=\"num\">?</td>") && html.stdout.contains("class=\"unknown\""))
        let sumCheck = try await Subprocess.run(mailgauge, ["check", "--config", config, "--account", "sum"])
        #expect(sumCheck.stdout.contains("size of folder \"INBOX\" unknown"), "\(sumCheck.stdout)")

        let check = try await Subprocess.run(mailgauge, ["check", "--config", config])
        #expect([0, 1, 2].contains(check.status), "check: \(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("'max_storage'=U"), "\(check.stdout)")
        for id in Self.cases.map(\.id) {
            let one = try await Subprocess.run(mailgauge, ["check", "--config", config, "--account", id])
            #expect([0, 1, 2].contains(one.status), "check \(id): \(one.stdout)\(one.stderr)")
        }
    }
}
