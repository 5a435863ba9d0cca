@testable import Exposition
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `serve`'s HTTP endpoint is reachable by whoever reaches the port: each client's cost
/// is bounded, and errors say nothing about the inside.
@Suite("metrics HTTP server limits", .serialized)
struct HTTPLimitsTests {
    /// A raw TCP client, so the test can misbehave the way a client of a real network would.
    /// Its reads block, so they run on a thread of their own: on the cooperative pool (two
    /// threads on a 2-core machine) a read waiting seconds stalls every other test.
    final class RawClient: @unchecked Sendable {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        func send(_ text: String) {
            _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        }

        /// Everything until the server closes (or 5 s pass, `closed` false).
        func readToEnd() async -> (text: String, closed: Bool) {
            await withCheckedContinuation { continuation in
                Thread { continuation.resume(returning: self.blockingReadToEnd()) }.start()
            }
        }

        private func blockingReadToEnd() -> (text: String, closed: Bool) {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return (String(decoding: out, as: UTF8.self), true) }
                // A reset is the server closing on unread data; a timeout means it kept the line.
                if n < 0 { return (String(decoding: out, as: UTF8.self), errno == ECONNRESET) }
                out += buffer[0..<n]
            }
        }
    }

    /// A path that opens the gate of `withServer` once a file is there.
    static func gatePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mg-http-gate-\(UUID().uuidString)").path
    }

    /// `/slow` and `/page-slow` answer once `gate` holds a file (a request in progress).
    func withServer(_ limits: MetricsHTTPServer.Limits, gate: String = "/nonexistent", _ body: @Sendable (Int) async throws -> Void) async throws {
        let port = AsyncStream<Int>.makeStream()
        let server = MetricsHTTPServer(host: "127.0.0.1", port: 0, limits: limits) { _, path in
            if path.hasSuffix("slow") {
                while !FileManager.default.fileExists(atPath: gate) { try? await Task.sleep(for: .milliseconds(20)) }
                return .init(status: 200, body: "slow done\n")
            }
            return path == "/metrics" ? .init(status: 200, body: "up 1\n") : .init(status: 404, body: "not found\n")
        }
        let task = Task { try await server.run { port.continuation.yield($0) } }
        defer { task.cancel() }
        var ports = port.stream.makeAsyncIterator()
        guard let bound = await ports.next() else { throw CancellationError() }
        try await body(bound)
    }

    @Test("a request that does not arrive in time is cut off (slowloris)")
    func requestDeadline() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.requestTimeoutSeconds = 1
        try await withServer(limits) { port in
            let client = try RawClient(port: port)
            client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")  // and never the blank line
            let started = Date()
            let (text, closed) = await client.readToEnd()
            #expect(closed && text.isEmpty)
            #expect(Date().timeIntervalSince(started) < 4)
            // A complete request still works.
            let good = try RawClient(port: port)
            good.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await good.readToEnd().text.contains("up 1"))
        }
    }

    @Test("at the cap the connection idle longest is closed for a new one; a request in progress never is")
    func connectionCap() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.maxConnections = 2
        limits.requestTimeoutSeconds = 5
        let gate = Self.gatePath()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        try await withServer(limits, gate: gate) { port in
            let oldest = try RawClient(port: port)
            try await Task.sleep(for: .milliseconds(100))
            let newer = try RawClient(port: port)
            try await Task.sleep(for: .milliseconds(100))
            // Both idle: the scrape gets in, and the one idle longest makes room.
            let scrape = try RawClient(port: port)
            scrape.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await scrape.readToEnd().text.contains("up 1"))
            let (gone, closed) = await oldest.readToEnd()
            #expect(closed && gone.isEmpty)
            newer.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await newer.readToEnd().text.contains("up 1"), "the newer idle connection was kept")

            // Two requests in progress fill the cap: a third connection is closed, and they
            // are answered once their handler finishes.
            let busy = [try RawClient(port: port), try RawClient(port: port)]
            for b in busy { b.send("GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
            try await Task.sleep(for: .milliseconds(300))
            let extra = try RawClient(port: port)
            extra.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            let (text, refused) = await extra.readToEnd()
            #expect(refused && text.isEmpty, "\(text)")
            FileManager.default.createFile(atPath: gate, contents: Data())
            for b in busy { #expect(await b.readToEnd().text.contains("slow done")) }
        }
    }

    @Test("page requests hold only their slots: beyond them 503 at once, and a scrape still answers")
    func pageSlots() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.maxConnections = 4
        limits.pageSlots = 2
        let gate = Self.gatePath()
        defer { try? FileManager.default.removeItem(atPath: gate) }
        try await withServer(limits, gate: gate) { port in
            let pages = [try RawClient(port: port), try RawClient(port: port)]
            for p in pages { p.send("GET /page-slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
            try await Task.sleep(for: .milliseconds(300))
            let third = try RawClient(port: port)
            third.send("GET /page-slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await third.readToEnd().text.hasPrefix("HTTP/1.1 503"))
            let scrape = try RawClient(port: port)
            scrape.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await scrape.readToEnd().text.contains("up 1"))
            FileManager.default.createFile(atPath: gate, contents: Data())
            for p in pages { #expect(await p.readToEnd().text.contains("slow done")) }
        }
    }

    @Test("a client that asks and never reads is cut off at the write deadline")
    func writeDeadline() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.writeTimeoutSeconds = 1
        let port = AsyncStream<Int>.makeStream()
        // More than any socket buffer holds, made once (as a cached page is): the response
        // starts at once, so the deadline runs while the client is not reading.
        let big = MetricsHTTPServer.Response(status: 200, body: String(repeating: "x", count: 64 << 20))
        let size = big.bodyText.utf8.count
        let server = MetricsHTTPServer(host: "127.0.0.1", port: 0, limits: limits) { _, _ in big }
        let task = Task { try await server.run { port.continuation.yield($0) } }
        defer { task.cancel() }
        var ports = port.stream.makeAsyncIterator()
        let bound = try #require(await ports.next())
        let client = try RawClient(port: bound)
        var small: Int32 = 4096
        setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        client.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .seconds(3))  // not reading meanwhile
        // Past the deadline the server has closed: reading drains what was sent, then ends
        // well short of the whole body.
        let (text, closed) = await client.readToEnd()
        #expect(closed && text.utf8.count < size, "\(text.utf8.count) bytes")
    }

    @Test("a request body over the limit ends the connection")
    func bodyLimit() async throws {
        var limits = MetricsHTTPServer.Limits()
        limits.maxBodyBytes = 1024
        try await withServer(limits) { port in
            let client = try RawClient(port: port)
            client.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "x", count: 5000))
            let (text, closed) = await client.readToEnd()
            #expect(closed && !text.contains("200"), "\(text)")
        }
    }
}

@Suite("file modes")
struct FileModeTests {
    @Test("the textfile is 0644 whatever the umask; a stray temporary file does not block it")
    func textfileMode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-mode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mailgauge.prom").path
        try "stale".write(toFile: "\(path).tmp.\(getpid())", atomically: false, encoding: .utf8)
        let old = umask(0o027)
        defer { umask(old) }
        try Textfile.write("a 1\n", to: path)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o644)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a 1\n")
    }
}
