import Foundation
import Testing

/// The Grafana dashboard against a real Prometheus holding data scraped from mailgauge
/// after real runs: every panel's query returns data, and uses only metrics we export.
@Suite("Grafana dashboard", .serialized, .requires(.dovecot, .sqlite3, .prometheus, .python3))
struct DashboardTests {
    struct Query: Hashable { var panel: String; var expr: String }

    static func queries() throws -> (panels: [Query], variables: [String]) {
        let url = Paths.repository.appendingPathComponent("dashboards/mailgauge.json")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var out: [Query] = []
        func walk(_ panels: [[String: Any]]) {
            for p in panels {
                for t in (p["targets"] as? [[String: Any]]) ?? [] {
                    if let e = t["expr"] as? String { out.append(Query(panel: p["title"] as? String ?? "?", expr: e)) }
                }
                walk((p["panels"] as? [[String: Any]]) ?? [])
            }
        }
        walk((dashboard["panels"] as? [[String: Any]]) ?? [])
        let variables = ((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []).compactMap { $0["definition"] as? String }
        return (out, variables)
    }

    @Test("every panel query returns data from a Prometheus scraping mailgauge serve")
    func panelsReturnData() async throws {
        let (panels, variables) = try Self.queries()
        #expect(panels.count >= 20)
        #expect(variables == ["label_values(mailgauge_up, account)"])
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-dashboard")
        let wrong = try TestFiles.secret("wrong", in: dir)
        let config = dir.appendingPathComponent("mailgauge.yml").path
        // alice grows (seeded history → a forecast), carol is near full, one login fails,
        // and a notification channel is down (so the notification panels have data).
        try """
            \(TestConfig.header(dovecot, dir: dir))
            schedule: { interval: 2s, policy: fixed }
            folders: { export: all }
            accounts:
              - { id: alice, user: alice, password_file: \(dovecot.secretFile("alice")) }
              - { id: carol, user: carol, password_file: \(dovecot.secretFile("carol")) }
              - { id: locked-out, user: bob, password_file: \(wrong) }
            alerts:
              webhook: { url: "http://127.0.0.1:\(try freePort())/hook", format: json, timeout: 2s, insecure_plaintext: true }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        _ = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
        let q = try #require(try await dovecot.doveadmQuota("alice").first { $0.resource == "STORAGE" })
        let hour = (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600
        var sql = "BEGIN;"
        for i in 0..<48 {
            sql += "INSERT INTO quota_rollup VALUES ('alice', 'hour', \(hour - Double(48 - i) * 3600), 'User quota', 'STORAGE', \(1500 + 950 * i / 47), \(q.limit ?? 5000), 1);"
        }
        _ = try await Subprocess.run("/usr/bin/sqlite3", ["\(dir.path)/mailgauge.sqlite", sql + "DELETE FROM forecast WHERE account_id = 'alice'; DELETE FROM quota_series WHERE account_id = 'alice'; COMMIT;"])

        let port = try freePort()
        let serve = try BackgroundProcess(Paths.mailgauge, ["serve", "-c", config, "--listen", "127.0.0.1:\(port)", "--log-level", "error"],
                                          logDir: dir)
        defer { serve.stop() }
        try await serve.waitUntil("serve") { await ServeTests.get("http://127.0.0.1:\(port)/-/ready").0 == 200 }
        let promPort = try freePort()
        let promConfig = dir.appendingPathComponent("prometheus.yml").path
        try """
            global: { scrape_interval: 1s }
            scrape_configs:
              - job_name: mailgauge
                static_configs: [ { targets: ["127.0.0.1:\(port)"] } ]
            """.write(toFile: promConfig, atomically: true, encoding: .utf8)
        let prometheus = try BackgroundProcess("/usr/bin/prometheus", [
            "--config.file=\(promConfig)", "--storage.tsdb.path=\(dir.path)/tsdb", "--web.listen-address=127.0.0.1:\(promPort)",
        ], logDir: dir)
        defer { prometheus.stop() }
        func query(_ expr: String) async -> [Any]? {
            let e = expr.replacingOccurrences(of: "$account", with: ".+").replacingOccurrences(of: "$__rate_interval", with: "1m")
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let (status, body) = await ServeTests.get("http://127.0.0.1:\(promPort)/api/v1/query?query=" + (e.addingPercentEncoding(withAllowedCharacters: allowed) ?? e))
            guard status == 200, let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                  let data = json["data"] as? [String: Any] else { return nil }
            return data["result"] as? [Any]
        }
        // Wait for enough scrapes that increase() and the forecast have data.
        try await serve.waitUntil(timeoutSeconds: 90, "Prometheus data") {
            let forecast = await query("mailgauge_storage_full_forecast_timestamp_seconds") ?? []
            let failures = await query("increase(mailgauge_probe_failures_total[1m])") ?? []
            let webhook = await query("mailgauge_notifications_failed_total{channel=\"webhook\"} > 0") ?? []
            return !forecast.isEmpty && !failures.isEmpty && !webhook.isEmpty
        }
        try await Task.sleep(for: .seconds(3))
        for p in panels {
            let result = await query(p.expr)
            #expect(result != nil, "\(p.panel): \(p.expr) is not valid PromQL")
            #expect(result?.isEmpty == false, "\(p.panel): \(p.expr) returned nothing")
        }
        // Panels use only metrics mailgauge exports.
        let exported = await ServeTests.get("http://127.0.0.1:\(port)/metrics").1
        let regex = try NSRegularExpression(pattern: "mailgauge_[a-z_]+")
        for p in panels {
            for m in regex.matches(in: p.expr, range: NSRange(p.expr.startIndex..., in: p.expr)) {
                let name = String(p.expr[Range(m.range, in: p.expr)!])
                #expect(exported.contains("\n\(name)") || exported.hasPrefix(name), "\(p.panel): \(name) is not exported")
            }
        }
    }

    @Test("ready to import and to read: __inputs and __requires, one account at a time, units and thresholds on every panel, ranked bars instant and sorted")
    func importable() throws {
        let url = Paths.repository.appendingPathComponent("dashboards/mailgauge.json")
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let inputs = try #require(dashboard["__inputs"] as? [[String: Any]])
        #expect(inputs.contains { $0["pluginId"] as? String == "prometheus" && $0["type"] as? String == "datasource" })
        let requires = try #require(dashboard["__requires"] as? [[String: Any]])
        #expect(requires.contains { $0["id"] as? String == "grafana" } && requires.contains { $0["id"] as? String == "prometheus" })
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        let account = try #require(variables.first { $0["name"] as? String == "account" })
        #expect(account["multi"] as? Bool == false && account["includeAll"] as? Bool == false, "one account's panels at a time")
        for panel in (dashboard["panels"] as? [[String: Any]] ?? []) where panel["type"] as? String != "row" {
            let title = panel["title"] as? String ?? "?"
            let defaults = (panel["fieldConfig"] as? [String: Any])?["defaults"] as? [String: Any] ?? [:]
            #expect((defaults["unit"] as? String)?.isEmpty == false, "\(title): no unit")
            #expect(((defaults["thresholds"] as? [String: Any])?["steps"] as? [Any])?.isEmpty == false, "\(title): no thresholds")
            if panel["type"] as? String == "bargauge" {
                for target in panel["targets"] as? [[String: Any]] ?? [] {
                    #expect(target["instant"] as? Bool == true && (target["expr"] as? String)?.hasPrefix("sort_desc(topk(") == true, "\(title): \(target)")
                }
            }
        }
    }
}
