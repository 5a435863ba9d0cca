import ClientNetworking
import Collector
import Foundation
import IMAPClient
import Logging
import MailGaugeCore
import ScriptedServer
import Synchronization
import Testing

/// The Cyrus admin bulk reader against admin sessions that misbehave: the whole reading
/// has one deadline, one answer is a few responses, and an answer for another root is no
/// reading (never another user's figures).
@Suite("Cyrus admin bulk reading against a misbehaving server")
struct BulkQuotaFaultTests {
    static func server(_ getQuota: @escaping @Sendable (String, String) -> String?) async throws -> ScriptedIMAPServer {
        try await ScriptedIMAPServer(greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR QUOTA] admin\r\n") { tag, verb, line in
            switch verb {
            case "AUTHENTICATE", "LOGIN": return "$TAG OK [CAPABILITY IMAP4rev1 QUOTA] in\r\n"
            case "LIST": return "* LIST (\\Noselect) \".\" \"\"\r\n$TAG OK\r\n"
            case "GETQUOTA": return getQuota(tag, line)
            case "LOGOUT": return "* BYE\r\n$TAG OK\r\n"
            default: return "$TAG OK\r\n"
            }
        }
    }

    static func read(_ server: ScriptedIMAPServer, users: [String], timeout: Double) async throws -> [String: BulkQuota.Reading] {
        try await BulkQuota.read(
            connection: ConnectionConfiguration(host: "127.0.0.1", port: server.port, security: .insecurePlaintext, timeoutSeconds: timeout),
            admin: Credentials(user: "cyrus", secret: "admin-secret"), users: users, logger: Logger(label: "test"))
    }

    @Test("a server that answers each GETQUOTA a second after the last is cut off at the reading's one deadline")
    func stalling() async throws {
        let answered = Mutex(0)
        let server = try await Self.server { _, line in
            let n = answered.withLock { $0 += 1; return $0 }
            let root = line.split(separator: " ").last.map(String.init) ?? ""
            return "$AFTER \(n * 1000) * QUOTA \(root) (STORAGE 1 100)\r\n$TAG OK\r\n"
        }
        defer { Task { await server.close() } }
        let users = (0..<20).map { "u\($0)" }
        let started = Date()
        // Each answer comes within the 2 s command timeout of the one before; the 20 take
        // 20 s. The reading's deadline is 2.2 s (a loaded machine may take longer to end it).
        await #expect(throws: (any Error).self) { try await Self.read(server, users: users, timeout: 2) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 10, "took \(elapsed) s")
    }

    @Test("a server that floods one GETQUOTA with responses is refused after a few, not two million")
    func flooding() async throws {
        let server = try await Self.server { _, line in
            let root = line.split(separator: " ").last.map(String.init) ?? ""
            return "$EVERY 1 * QUOTA \(root) (STORAGE 1 100)\r\n"
        }
        defer { Task { await server.close() } }
        let started = Date()
        do {
            _ = try await Self.read(server, users: ["alice"], timeout: 5)
            Issue.record("a flood was read")
        } catch {
            #expect("\(error)".contains("more than \(BulkQuota.maxResponsesPerUser) untagged responses"), "\(error)")
        }
        #expect(Date().timeIntervalSince(started) < 10, "refused at the 9th response, long before the 5 s command timeout would matter twice")
    }

    @Test("an answer for another root, or two answers for one, is no reading for that user; the others are read")
    func wrongRoot() async throws {
        let server = try await Self.server { _, line in
            if line.hasSuffix("user.alice") { return "* QUOTA user.bob (STORAGE 999 1000)\r\n$TAG OK\r\n" }
            if line.hasSuffix("user.carol") { return "* QUOTA user.carol (STORAGE 1 10)\r\n* QUOTA user.carol (STORAGE 9 10)\r\n$TAG OK\r\n" }
            let root = line.split(separator: " ").last.map(String.init) ?? ""
            return "* QUOTA \(root) (STORAGE 5 100)\r\n$TAG OK\r\n"
        }
        defer { Task { await server.close() } }
        let readings = try await Self.read(server, users: ["alice", "bob", "carol"], timeout: 5)
        #expect(readings["alice"] == .refused("the server answered for another quota root"))
        #expect(readings["carol"] == .refused("the server answered with 2 quotas for one root"))
        #expect(readings["bob"] == .quota(.ok, [QuotaRootUsage(name: "user.bob", resources: [ResourceUsage(resource: "STORAGE", usage: 5, limit: 100)])]))
    }
}
