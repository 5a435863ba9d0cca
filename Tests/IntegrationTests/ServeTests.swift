import Foundation
import Testing

/// `mailgauge serve` scraped by a real Prometheus, reloaded with SIGHUP, stopped with SIGTERM.
@Suite("serve with a real Prometheus", .serialized, .requires(.dovecot, .promtool, .prometheus, .python3))
struct ServeTests {
    /// A loopback port nobody listens on now (bound to port 0, read back, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func get(_ url: String) async -> (Int, String) {
        let out = try? await Subprocess.run("/usr/bin/python3", ["-c", """
            import sys, urllib.request, urllib.error
            try:
                r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status); sys.stdout.write(r.read().decode())
            except urllib.error.HTTPError as e:
                print(e.code); sys.stdout.write(e.read().decode())
            except Exception as e:
                print(0)
            """, url], timeoutSeconds: 15)
        let text = out?.stdout ?? "0\n"
        let status = Int(text.prefix { $0 != "\n" }) ?? 0
        return (status, String(text.drop { $0 != "\n" }.dropFirst()))
    }

    static func waitFor(_ seconds: Double, _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    static func config(_ dovecot: TestDovecot, dir: URL, accounts: [String], wrongPassword: Bool) throws -> String {
        let wrong = try TestFiles.secret("wrong", in: dir)
        var yaml = """
            \(TestConfig.header(dovecot, dir: dir))
            schedule: { interval: 2s }
            accounts:

            """
        for a in accounts { yaml += "  - { id: \(a), user: \(a), password_file: \(dovecot.secretFile(a)) }\n" }
        if wrongPassword { yaml += "  - { id: locked-out, user: bob, password_file: \(wrong) }\n" }
        let path = dir.appendingPathComponent("mailgauge.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("Prometheus scrapes serve: usage equals doveadm's, up 0 for a wrong password; SIGHUP reloads; SIGTERM stops")
    func prometheusScrapesServe() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-serve")
        let configPath = try Self.config(dovecot, dir: dir, accounts: ["alice", "carol"], wrongPassword: true)
        let port = try Self.freePort()
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: Paths.mailgauge)
        serve.arguments = ["serve", "-c", configPath, "--listen", "127.0.0.1:\(port)", "--log-level", "warning"]
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer { if serve.isRunning { serve.terminate() } }

        try await Self.waitFor(30, "serve to be ready") { await Self.get("http://127.0.0.1:\(port)/-/ready").0 == 200 }
        #expect(await Self.get("http://127.0.0.1:\(port)/-/healthy").0 == 200)
        #expect(await Self.get("http://127.0.0.1:\(port)/nope").0 == 404)
        let body = await Self.get("http://127.0.0.1:\(port)/metrics").1
        let metricsFile = dir.appendingPathComponent("scrape.prom").path
        try body.write(toFile: metricsFile, atomically: true, encoding: .utf8)
        let lint = try await Subprocess.run("/bin/sh", ["-c", "promtool check metrics < '\(metricsFile)'"])
        #expect(lint.status == 0 && lint.stdout.isEmpty && lint.stderr.isEmpty, "promtool: \(lint.stdout)\(lint.stderr)")

        // A real Prometheus scraping it.
        let promPort = try Self.freePort()
        let promConfig = dir.appendingPathComponent("prometheus.yml")
        try """
            global: { scrape_interval: 1s }
            scrape_configs:
              - job_name: mailgauge
                static_configs: [ { targets: ["127.0.0.1:\(port)"] } ]
            """.write(to: promConfig, atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = ["--config.file=\(promConfig.path)", "--storage.tsdb.path=\(dir.path)/tsdb",
                                "--web.listen-address=127.0.0.1:\(promPort)"]
        prometheus.standardOutput = FileHandle.nullDevice
        prometheus.standardError = FileHandle.nullDevice
        try prometheus.run()
        defer { if prometheus.isRunning { prometheus.terminate() } }
        let api = "http://127.0.0.1:\(promPort)/api/v1/query?query="
        func query(_ q: String) async -> String {
            await Self.get(api + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q)).1
        }
        let aliceBytes = try await dovecot.doveadmQuota("alice").first { $0.resource == "STORAGE" }!.value * 1024
        try await Self.waitFor(60, "Prometheus to scrape alice's usage") {
            await query("mailgauge_storage_used_bytes{account=\"alice\"}").contains("\"\(aliceBytes)\"")
        }
        #expect(await query("mailgauge_up{account=\"locked-out\"}").contains("\"0\""))
        #expect(await query("mailgauge_up{account=\"alice\"}").contains("\"1\""))
        #expect(!(await query("mailgauge_storage_used_bytes{account=\"locked-out\"}")).contains("locked-out"))

        // SIGHUP with one more account: it appears after the next pass.
        _ = try Self.config(dovecot, dir: dir, accounts: ["alice", "carol", "erin"], wrongPassword: true)
        kill(serve.processIdentifier, SIGHUP)
        try await Self.waitFor(30, "erin after reload") {
            await Self.get("http://127.0.0.1:\(port)/metrics").1.contains("mailgauge_up{account=\"erin\"} 1")
        }
        #expect(await Self.get("http://127.0.0.1:\(port)/metrics").1.contains("mailgauge_config_last_reload_successful 1"))

        // A broken config on reload: the old one keeps running, the gauge says 0.
        try "servers: [\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        kill(serve.processIdentifier, SIGHUP)
        try await Self.waitFor(10, "reload gauge 0") {
            await Self.get("http://127.0.0.1:\(port)/metrics").1.contains("mailgauge_config_last_reload_successful 0")
        }
        #expect(await Self.get("http://127.0.0.1:\(port)/metrics").1.contains("mailgauge_up{account=\"erin\"} 1"))

        // SIGTERM: a clean exit.
        serve.terminate()
        await serve.exited()
        #expect(serve.terminationStatus == 0)
    }
}
