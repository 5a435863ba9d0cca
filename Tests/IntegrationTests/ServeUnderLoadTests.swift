import Foundation
import MailGaugeCore
import Store
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `serve` against whoever can reach its port: a flood of idle connections past the
/// default descriptor limit, and a storm of `GET /` from clients that never read. A
/// scrape must keep answering, and memory must not grow with the slow readers.
@Suite("serve under a connection flood and a page storm", .serialized, .requires(.prlimit, .python3))
struct ServeUnderLoadTests {
    static let accounts = 3000

    /// A history of `accounts` accounts stored as a run would store it, each unlimited
    /// enough that the adaptive schedule leaves it for a day: serve's own first pass probes
    /// none of them, and the pages are large (one row per account).
    static func seed(_ path: String) throws {
        let database = try AppDatabase(path: path)
        let now = Date()
        let outcomes = (0..<accounts).map { i in
            AccountOutcome(accountID: "user\(i)", user: "user\(i)", server: "nowhere", at: now, durationSeconds: 0.05, result: .success(
                MailboxSnapshot(quotaRoots: [QuotaRootUsage(name: "User quota", resources: [ResourceUsage(resource: "STORAGE", usage: UInt64(100 + i), limit: 10_000_000)])],
                                quotaStatus: .ok,
                                folders: (0..<5).map { FolderUsage(name: "Folder \($0)", rawName: "Folder \($0)", specialUse: [], messages: 10, sizeBytes: 1000) },
                                method: .listStatus, capabilities: [], durationSeconds: 0.05)))
        }
        _ = try database.record(startedAt: now, finishedAt: now, outcomes: outcomes,
                                schedule: .init(options: .init(passIntervalSeconds: 3600), thresholds: { _ in .init() }))
    }

    static func rss(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// A TCP connection that sends what it is given and never reads.
    static func connect(_ port: Int, receiveBuffer: Int32? = nil) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return fd
    }

    static func timedGet(_ url: String) async -> (status: Int, seconds: Double) {
        let started = Date()
        let (status, _) = await ServeTests.get(url)
        return (status, Date().timeIntervalSince(started))
    }

    @Test("1,100 idle connections under a soft limit of 1,024 files, then 64 GET / that never read: /metrics answers at once, RSS stays flat")
    func floodAndStorm() async throws {
        let dir = try TestFiles.directory("mg-serve-load")
        let database = dir.appendingPathComponent("mailgauge.sqlite").path
        try Self.seed(database)
        let secret = try TestFiles.secret("pw", in: dir)
        let config = dir.appendingPathComponent("mailgauge.yml").path
        // The server is never reached: every account is due only tomorrow.
        try ("""
            database: \(database)
            servers: { nowhere: { host: 127.0.0.1, port: \(try ServeTests.freePort()), tls: implicit, timeout: 2s } }
            schedule: { interval: 1h }
            accounts:

            """ + (0..<Self.accounts).map { "  - { id: user\($0), user: user\($0), server: nowhere, password_file: \(secret) }\n" }.joined())
            .write(toFile: config, atomically: true, encoding: .utf8)

        // systemd's default: a soft limit of 1,024 open files under a higher hard one (this
        // machine's own hard limit: it may not be raised).
        var own = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &own)
        let hard = own.rlim_max == rlim_t.max ? "unlimited" : "\(own.rlim_max)"
        try #require(own.rlim_max > 2048, "the hard limit \(hard) leaves no room above 1,024")
        let port = try ServeTests.freePort()
        let serve = try BackgroundProcess("/usr/bin/prlimit", ["--nofile=1024:\(hard)", Paths.mailgauge, "serve", "-c", config,
                                                               "--listen", "127.0.0.1:\(port)", "--log-level", "warning"], logDir: dir)
        defer { serve.stop() }
        let base = "http://127.0.0.1:\(port)"
        try await serve.waitUntil(timeoutSeconds: 120, "serve") { await ServeTests.get("\(base)/metrics").0 == 200 }
        let limits = try String(contentsOfFile: "/proc/\(serve.process.processIdentifier)/limits", encoding: .utf8)
        let openFiles = try #require(limits.split(separator: "\n").first { $0.hasPrefix("Max open files") })
        #expect(openFiles.split(separator: " ").filter { !$0.isEmpty }.dropFirst(3).first.map(String.init) == hard, "soft limit raised to the hard one: \(openFiles)")

        // The flood: more idle connections than the default soft limit. This process needs
        // the descriptors too.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 4096 { limit.rlim_cur = min(limit.rlim_max, 4096); setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) }
        // Each descriptor is closed exactly once: a second close could hit a number reused
        // by another test's socket meanwhile.
        let flood = (0..<1100).map { _ in Self.connect(port) }
        #expect(flood.allSatisfy { $0 >= 0 })
        try await Task.sleep(for: .milliseconds(500))
        let scrape = await Self.timedGet("\(base)/metrics")
        for fd in flood where fd >= 0 { close(fd) }
        #expect(scrape.status == 200 && scrape.seconds < 5, "a scrape during the flood: \(scrape)")

        // The storm: GET / (a page of 3,000 rows, rendered once) from 64 clients with tiny
        // receive buffers that never read.
        // The page is rendered once (3,000 rows, a debug build, a loaded machine: seconds).
        try await ServeTests.waitFor(60, "GET / rendered") { await ServeTests.get("\(base)/").0 == 200 }
        try await Task.sleep(for: .milliseconds(500))
        let before = Self.rss(serve.process.processIdentifier)
        let storm = (0..<64).map { _ in Self.connect(port, receiveBuffer: 4096) }
        defer { for fd in storm where fd >= 0 { close(fd) } }
        for fd in storm {
            let request = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        try await Task.sleep(for: .seconds(1))
        var slowest = 0.0
        for _ in 0..<5 {
            let s = await Self.timedGet("\(base)/metrics")
            #expect(s.status == 200, "a scrape during the storm: \(s)")
            slowest = max(slowest, s.seconds)
        }
        #expect(slowest < 1, "scrapes during the storm took up to \(slowest) s")
        let during = Self.rss(serve.process.processIdentifier)
        #expect(during - before < 32 << 20, "RSS grew from \(before >> 20) MB to \(during >> 20) MB with 64 slow readers")
        print("serve under load: scrape in the flood \(scrape.seconds) s; slowest scrape in the storm \(slowest) s; RSS \(before >> 20) → \(during >> 20) MB")
    }
}
