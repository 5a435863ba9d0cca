import Foundation
import Testing

/// The HTML report and serve's pages in a real browser (Debian's headless Chromium through
/// scripts/servers/browser-check): they load without console errors (the Content-Security-Policy
/// blocks anything but the page's own script, so a violation would show there), show the
/// database's figures, draw one chart point per stored reading, keep hostile folder names
/// as text, and sort. Screenshots go to .build/test-output/pages/.
@Suite("pages in a real browser", .serialized, .requires(.dovecot, .sqlite3, .chromium, .python3))
struct PagesInBrowserTests {
    static let screenshots = Paths.repository.appendingPathComponent(".build/test-output/pages").path

    static func sql(_ database: String, _ query: String) async throws -> [String] {
        let out = try await Subprocess.run("/usr/bin/sqlite3", [database, query])
        return out.stdout.split(separator: "\n").map(String.init)
    }

    static func browse(_ pages: [(String, String)]) async throws -> [String: [String: Any]] {
        let out = try await Subprocess.run(Paths.repository.appendingPathComponent("scripts/servers/browser-check").path,
                                           [screenshots] + pages.map { "\($0.0)=\($0.1)" }, timeoutSeconds: 180)
        guard out.status == 0, let json = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: [String: Any]] else {
            throw TestFailure("browser-check: \(out.status) \(out.stderr)")
        }
        return json
    }

    @Test("report file and serve's / and /account/ID: no console errors, the database's figures, chart points, escaped folder names, sorting, zh-CN")
    func pages() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-pages")
        let wrong = try TestFiles.secret("wrong", in: dir)
        let database = "\(dir.path)/mailgauge.sqlite"
        func writeConfig(locale: String) throws -> String {
            let path = dir.appendingPathComponent("mailgauge-\(locale).yml").path
            try """
                \(TestConfig.header(dovecot, dir: dir))
                defaults: { locale: \(locale) }
                schedule: { interval: 1h }
                accounts:
                  - { id: alice, user: alice, password_file: \(dovecot.secretFile("alice")) }
                  - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")) }
                  - { id: pia, user: pia, password_file: \(dovecot.secretFile("pia")) }
                  - { id: locked, user: bob, password_file: \(wrong) }
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let config = try writeConfig(locale: "en")
        let zhConfig = try writeConfig(locale: "zh-CN")
        for _ in 0..<2 {
            let run = try await Subprocess.run(Paths.mailgauge, ["run", "--all", "-c", config], timeoutSeconds: 120)
            #expect(run.status == 1, "\(run.stderr)")
        }
        // serve runs its first pass at start, then none for an hour: the database holds
        // still while the pages are read.
        let port = try freePort()
        let serve = try BackgroundProcess(Paths.mailgauge, ["serve", "-c", config, "--listen", "127.0.0.1:\(port)", "--log-level", "warning"],
                                          logDir: dir)
        defer { serve.stop() }
        try await serve.waitUntil(timeoutSeconds: 60, "serve") { await ServeTests.get("http://127.0.0.1:\(port)/-/ready").0 == 200 }
        // What a hostile server may leave in the history: an [ALERT] text with markup and a
        // control character, and a folder whose size could not be represented (NULL).
        let alertText = "<b>Over quota</b> \u{1B}[2J: <img src=x onerror=window.__xss=3>"
        _ = try await Self.sql(database, "UPDATE account SET server_alert = '\(alertText)', server_alert_at = strftime('%s','now') WHERE id = 'pia'")
        _ = try await Self.sql(database, "UPDATE folder_sample SET size_bytes = NULL WHERE account_id = 'pia' AND name = 'INBOX' AND at = (SELECT last_folders_at FROM account WHERE id = 'pia')")
        let reportFile = dir.appendingPathComponent("report.html").path
        let report = try await Subprocess.run(Paths.mailgauge, ["report", "-c", config, "--format", "html", "--since", "30d"])
        #expect(report.status == 0)
        try report.stdout.write(toFile: reportFile, atomically: true, encoding: .utf8)
        let zhFile = dir.appendingPathComponent("report-zh.html").path
        try (try await Subprocess.run(Paths.mailgauge, ["report", "-c", zhConfig, "--format", "html"])).stdout
            .write(toFile: zhFile, atomically: true, encoding: .utf8)
        // Self-contained: nothing that a browser would fetch from elsewhere.
        #expect(!report.stdout.contains("src=\"http") && !report.stdout.contains("href=\"http") && !report.stdout.contains("@import"))

        let base = "http://127.0.0.1:\(port)"
        let seen = try await Self.browse([("report", "file://\(reportFile)"), ("overview", "\(base)/"),
                                          ("account-pia", "\(base)/account/pia"), ("report-zh", "file://\(zhFile)")])

        // What the database holds, read after the pages (nothing ran in between).
        var used: [String: String] = [:]
        for line in try await Self.sql(database, """
            SELECT a.id, q.usage * 1024 FROM account a JOIN quota_sample q ON q.account_id = a.id AND q.at = a.last_success
            WHERE q.resource = 'STORAGE'
            """) {
            let f = line.split(separator: "|")
            used[String(f[0])] = String(f[1])
        }
        let samples = Int(try await Self.sql(database, "SELECT COUNT(*) FROM quota_sample WHERE account_id = 'pia' AND resource = 'STORAGE'")[0])!
        #expect(samples >= 2 && used.count == 3, "\(samples) \(used)")

        for (name, page) in seen {
            #expect((page["console_errors"] as? [String])?.isEmpty == true, "\(name): \(page["console_errors"] ?? "")")
            #expect(page["xss"] is NSNull, "\(name): a folder name ran as script")
            #expect(FileManager.default.fileExists(atPath: page["screenshot"] as? String ?? ""), "\(name): no screenshot")
        }
        for name in ["report", "overview"] {
            let page = try #require(seen[name])
            let cards = try #require(page["cards"] as? [String: String])
            #expect(cards["card-accounts"] == "4" && cards["card-failing"] == "1", "\(name): \(cards)")
            let rows = try #require(page["rows"] as? [[String: Any]])
            for row in rows where row["account"] as? String != "locked" {
                #expect(row["used_sort"] as? String == used[row["account"] as? String ?? ""], "\(name): \(row) vs \(used)")
            }
            // Clicking "use" sorts ascending by usage (the failed account, without one, first).
            let percent = rows.map { ($0["account"] as! String, Double(($0["percent"] as! String).split(separator: " ").first ?? "") ?? -1) }
            #expect(page["sorted_by_use"] as? [String] == percent.sorted { $0.1 < $1.1 }.map(\.0), "\(name)")
            let servers = try #require(page["servers"] as? [[String: Any]])
            #expect(servers.first?["endpoint"] as? String == "localhost:\(dovecot.imapsPort)")
        }
        let overviewLinks = try #require(seen["overview"]?["links"] as? [String])
        #expect(overviewLinks.contains("/metrics") && overviewLinks.contains("/account/pia"))
        // One point per stored reading; the hostile folder names are text, and never ran.
        let piaPage = try #require(seen["account-pia"])
        let chart = try #require((piaPage["charts"] as? [[String: Any]])?.first)
        #expect(chart["points"] as? Int == samples && chart["declared"] as? Int == samples && chart["limit"] as? Bool == true, "\(chart)")
        let folders = try #require(piaPage["folders"] as? [String])
        #expect(folders.contains("<img src=x onerror=window.__xss=1>") && folders.contains("<script>window.__xss=2"), "\(folders)")
        // The server's words, as text (markup shown, the control character escaped, nothing ran).
        for name in ["account-pia", "report"] {
            let page = try #require(seen[name])
            #expect(page["server_alerts"] as? [String] == ["<b>Over quota</b> \\u{1B}[2J: <img src=x onerror=window.__xss=3>"], "\(name): \(page["server_alerts"] ?? "")")
            let unknown = try #require(page["unknown"] as? [String])
            #expect(unknown == ["size of folder \"INBOX\" unknown: its messages' sizes add up past 2^63-1 bytes"], "\(name): \(unknown)")
        }
        let reportCharts = try #require(seen["report"]?["charts"] as? [[String: Any]])
        #expect(reportCharts.count == 4)
        #expect((seen["report-zh"]?["title"] as? String)?.contains("邮箱存储") == true)

        // The page's headers: its own script only.
        let headers = try await Subprocess.run("/usr/bin/python3", ["-c", """
            import sys, urllib.request
            r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.headers["Content-Security-Policy"])
            """, "\(base)/"])
        #expect(headers.stdout.contains("default-src 'none'") && headers.stdout.contains("script-src 'sha256-"))
        #expect(await ServeTests.get("\(base)/account/nobody").0 == 404)
    }

    @Test("the CSP hash is the SHA-256 of the page's script, as openssl computes it")
    func scriptHash() async throws {
        // The script and its hash as the page carries them.
        let dir = try TestFiles.directory("mg-csp")
        let page = dir.appendingPathComponent("page.html").path
        let dovecot = try await TestDovecot.shared()
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try """
            \(TestConfig.header(dovecot, dir: dir))
            accounts:
              - { id: alice, user: alice, password_file: \(dovecot.secretFile("alice")) }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        _ = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 60)
        let html = try await Subprocess.run(Paths.mailgauge, ["report", "-c", config, "--format", "html"]).stdout
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        let script = try #require(html.range(of: "<script>").flatMap { open in html.range(of: "</script>", range: open.upperBound..<html.endIndex).map { html[open.upperBound..<$0.lowerBound] } })
        let scriptFile = dir.appendingPathComponent("script.js").path
        try String(script).write(toFile: scriptFile, atomically: true, encoding: .utf8)
        let digest = try await Subprocess.run("/bin/sh", ["-c", "openssl dgst -sha256 -binary '\(scriptFile)' | base64"])
        #expect(html.contains("script-src 'sha256-\(digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines))'"))
    }
}
