import Foundation

/// A server process for the length of a test: started, stopped with SIGTERM in `stop()`
/// (and killed if the test forgets). Output goes to files so it never blocks on a pipe.
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    init(_ executable: String, _ arguments: [String], logDir: URL) throws {
        stdoutPath = logDir.appendingPathComponent("\(URL(fileURLWithPath: executable).lastPathComponent).out").path
        stderrPath = logDir.appendingPathComponent("\(URL(fileURLWithPath: executable).lastPathComponent).err").path
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until `ready` says the process is up (polling), or fails with its stderr.
    func waitUntil(timeoutSeconds: Double = 30, _ what: String, _ ready: () async -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while !(await ready()) {
            guard process.isRunning else { throw TestFailure("\(what) exited: \(stderr)") }
            guard Date() < deadline else { throw TestFailure("\(what) not ready in \(timeoutSeconds) s: \(stderr)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGTERM, then SIGKILL after 5 s: a child started from a dispatch thread inherits a
    /// blocked signal mask and may never see the SIGTERM (the Python servers here often
    /// do not). The wait runs on a thread of its own and `stop()` returns at once: called
    /// from a test it would hold one of the cooperative pool's two threads (on a 2-core
    /// machine) for those 5 s, and every other test in the process with it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        nonisolated(unsafe) let process = process
        Thread {
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }.start()
    }

    deinit { stop() }
}

/// scripts/servers/smtp-sink: Debian's aiosmtpd with STARTTLS (or implicit TLS) and AUTH, storing
/// each message it accepts. Uses the test Dovecot's certificate (CN localhost).
final class SMTPSink: @unchecked Sendable {
    struct Message: Decodable {
        var subject: String
        var raw_subject: String?
        var from: String
        var to: String
        var content_type: String
        var auto_submitted: String?
        var defects: [String]
        var text: String?
        var html: String?
        var envelope: Envelope = Envelope()

        enum CodingKeys: String, CodingKey { case subject, raw_subject, from, to, content_type, auto_submitted, defects, text, html }
    }

    struct Envelope: Decodable {
        var mail_from = ""
        var rcpt_tos: [String] = []
        var authenticated = false
        var tls = false
    }

    static let script = Paths.repository.appendingPathComponent("scripts/servers/smtp-sink").path
    let directory: URL
    let port: Int
    let user = "alerts"
    let password = "smtp-secret"
    private let server: BackgroundProcess

    init(tls: String = "starttls", dovecot: TestDovecot) async throws {
        directory = try TestFiles.directory("mg-smtp")
        let tlsDir = URL(fileURLWithPath: dovecot.caFile).deletingLastPathComponent().path
        server = try BackgroundProcess("/usr/bin/python3", [
            SMTPSink.script, "serve", directory.appendingPathComponent("mail").path, "--cert", "\(tlsDir)/server.pem",
            "--key", "\(tlsDir)/server.key", "--tls", tls, "--user", user, "--password", password,
        ], logDir: directory)
        let server = self.server
        try await server.waitUntil("smtp-sink") { server.stdout.contains("READY ") }
        guard let line = server.stdout.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }), let p = Int(line.dropFirst(6)) else {
            throw TestFailure("smtp-sink: no port in \(server.stdout)")
        }
        port = p
    }

    /// The messages received so far, parsed by Python's email package, oldest first.
    func messages() async throws -> [Message] {
        let mail = directory.appendingPathComponent("mail")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: mail.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        var messages: [Message] = []
        for name in files {
            let out = try await Subprocess.run("/usr/bin/python3", [SMTPSink.script, "inspect", mail.appendingPathComponent(name).path])
            guard out.status == 0 else { throw TestFailure("smtp-sink inspect \(name): \(out.stderr)") }
            var message = try JSONDecoder().decode(Message.self, from: Data(out.stdout.utf8))
            message.text = message.text?.replacingOccurrences(of: "\r\n", with: "\n")
            let meta = mail.appendingPathComponent(name.replacingOccurrences(of: ".eml", with: ".json"))
            message.envelope = try JSONDecoder().decode(Envelope.self, from: Data(contentsOf: meta))
            messages.append(message)
        }
        return messages
    }

    /// The server's log of the SMTP dialogue.
    var log: String { server.stderr }

    func passwordFile() throws -> String { try TestFiles.secret(password, in: directory, name: "smtp.pass") }

    func stop() { server.stop() }
}

/// Debian's prometheus-alertmanager on a free loopback port, clustering off.
final class TestAlertmanager: @unchecked Sendable {
    let port: Int
    private let server: BackgroundProcess

    init() async throws {
        let dir = try TestFiles.directory("mg-alertmanager")
        let config = dir.appendingPathComponent("alertmanager.yml").path
        try """
            route: { receiver: nobody, group_wait: 1s }
            receivers: [ { name: nobody } ]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        port = try freePort()
        server = try BackgroundProcess("/usr/bin/prometheus-alertmanager", [
            "--config.file=\(config)", "--storage.path=\(dir.path)/data", "--web.listen-address=127.0.0.1:\(port)",
            "--cluster.listen-address=",
        ], logDir: dir)
        let port = self.port
        try await server.waitUntil("alertmanager") { await (try? httpGet("http://127.0.0.1:\(port)/-/ready")) != nil }
    }

    var alertsURL: String { "http://127.0.0.1:\(port)/api/v2/alerts" }

    /// GET /api/v2/alerts: each alert's labels, annotations and status.
    func alerts() async throws -> [[String: Any]] {
        let data = try await httpGet(alertsURL)
        return (try JSONSerialization.jsonObject(with: data) as? [[String: Any]]) ?? []
    }

    func stop() { server.stop() }
}

/// A real HTTP server (Python's http.server) that appends each POST body to a file and
/// answers 204: the far end of a generic JSON webhook.
final class WebhookReceiver: @unchecked Sendable {
    let port: Int
    let bodiesPath: String
    private let server: BackgroundProcess

    init(dir: URL) async throws {
        port = try freePort()
        bodiesPath = dir.appendingPathComponent("bodies.jsonl").path
        server = try BackgroundProcess("/usr/bin/python3", ["-c", """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    with open(sys.argv[2], "ab") as f: f.write(body + b"\\n")
                    self.send_response(204); self.end_headers()
            http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
            """, "\(port)", bodiesPath], logDir: dir)
        let port = self.port
        try await server.waitUntil("webhook receiver") { await ServeTests.get("http://127.0.0.1:\(port)/").0 != 0 }
    }

    /// Each POST body received so far, oldest first.
    func bodies() -> [String] {
        ((try? String(contentsOfFile: bodiesPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func stop() { server.stop() }
}

func freePort() throws -> Int { try ServeTests.freePort() }

func httpGet(_ url: String) async throws -> Data {
    let (status, body) = await ServeTests.get(url)
    guard (200..<300).contains(status) else { throw TestFailure("GET \(url): HTTP \(status)") }
    return Data(body.utf8)
}
