import ClientNetworking
import Collector
import IMAPClient
import IMAPCore
import MailGaugeCore
import Testing

@Suite("probe plan from capabilities")
struct ProbePlanTests {
    // Capabilities as real servers send them after login.
    static let dovecot: Set<Capability> = ["IMAP4REV1", "LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE", "SPECIAL-USE", "QUOTA", "LITERAL+", "ID"]
    static let cyrus: Set<Capability> = ["IMAP4REV1", "LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE", "SPECIAL-USE", "QUOTA", "LOGINDISABLED"]
    static let gmail: Set<Capability> = ["IMAP4REV1", "QUOTA", "ID", "SPECIAL-USE", "LIST-EXTENDED", "X-GM-EXT-1"]
    static let exchange: Set<Capability> = ["IMAP4", "IMAP4REV1", "IDLE", "LITERAL+", "CHILDREN", "UIDPLUS", "ID", "MOVE"]
    static let statusSizeOnly: Set<Capability> = ["IMAP4REV1", "STATUS=SIZE", "SPECIAL-USE"]

    @Test("fastest method the server offers")
    func auto() throws {
        #expect(try ProbePlan.make(capabilities: Self.dovecot) == ProbePlan(readQuota: true, folderMethod: .listStatus, listReturnsSpecialUse: true))
        #expect(try ProbePlan.make(capabilities: Self.cyrus).folderMethod == .listStatus)
        #expect(try ProbePlan.make(capabilities: Self.gmail) == ProbePlan(readQuota: true, folderMethod: .fetch, listReturnsSpecialUse: true))
        #expect(try ProbePlan.make(capabilities: Self.exchange) == ProbePlan(readQuota: false, folderMethod: .fetch, listReturnsSpecialUse: false))
        // RETURN (SPECIAL-USE) needs extended LIST syntax: not sent to a server without it.
        #expect(try ProbePlan.make(capabilities: Self.statusSizeOnly) == ProbePlan(readQuota: false, folderMethod: .status, listReturnsSpecialUse: false))
    }

    @Test("forced methods: allowed where the server can, a clear error where not")
    func forced() throws {
        #expect(try ProbePlan.make(capabilities: Self.dovecot, forced: .status).folderMethod == .status)
        #expect(try ProbePlan.make(capabilities: Self.dovecot, forced: .fetch).folderMethod == .fetch)
        #expect(throws: ProbePlan.PlanError.methodUnsupported(.listStatus, missing: ["LIST-STATUS", "STATUS=SIZE"])) {
            try ProbePlan.make(capabilities: Self.gmail, forced: .listStatus)
        }
        #expect(throws: ProbePlan.PlanError.methodUnsupported(.status, missing: ["STATUS=SIZE"])) {
            try ProbePlan.make(capabilities: Self.exchange, forced: .status)
        }
        #expect(try ProbePlan.make(capabilities: Self.exchange, forced: .fetch).folderMethod == .fetch)
    }

    @Test("the LIST command each plan sends")
    func listCommand() throws {
        let encode = { (plan: ProbePlan) in
            String(decoding: CommandEncoder().encode(plan.listCommand, tag: "t").flattened, as: UTF8.self)
        }
        #expect(encode(try ProbePlan.make(capabilities: Self.dovecot)) == "t LIST \"\" * RETURN (SPECIAL-USE STATUS (MESSAGES SIZE))\r\n")
        #expect(encode(try ProbePlan.make(capabilities: Self.dovecot, forced: .status)) == "t LIST \"\" * RETURN (SPECIAL-USE)\r\n")
        #expect(encode(try ProbePlan.make(capabilities: Self.exchange)) == "t LIST \"\" *\r\n")
    }
}

@Suite("account URLs")
struct AccountURLTests {
    @Test("valid URLs")
    func valid() throws {
        #expect(try AccountURL.parse("imaps://alice@imap.example.com") == AccountURL(user: "alice", host: "imap.example.com", port: 993, security: .implicitTLS))
        #expect(try AccountURL.parse("imap://alice@example.com@imap.example.com:1143") ==
            AccountURL(user: "alice@example.com", host: "imap.example.com", port: 1143, security: .startTLS))
        #expect(try AccountURL.parse("IMAPS://a%40b.c@[::1]:9993/") == AccountURL(user: "a@b.c", host: "::1", port: 9993, security: .implicitTLS))
        #expect(try AccountURL.parse("imap://x@127.0.0.1").port == 143)
    }

    @Test("invalid URLs name the problem", arguments: [
        ("pop3://a@b", "scheme"), ("imaps://host", "no user"), ("imaps://@host", "empty"), ("imaps://a@", "empty host"),
        ("imaps://a@h:0", "port"), ("imaps://a@h:99999", "port"), ("imaps://a@h:x", "port"), ("imaps://a:pw@h", "password"),
        ("imaps://a@[::1", "IPv6"), ("imaps://a@h/INBOX", "path"), ("imaps://a%zz@h", "escaped"),
    ])
    func invalid(url: String, mentions: String) {
        do {
            _ = try AccountURL.parse(url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(error.description.contains(mentions), "\(error.description)")
        }
    }
}

@Suite("bulk quota: Cyrus quota root names")
struct BulkQuotaNameTests {
    @Test("user<sep>login; with the '.' separator a '.' in the login is '^'")
    func names() {
        #expect(BulkQuota.quotaRoot(of: "alice", separator: ".") == "user.alice")
        #expect(BulkQuota.quotaRoot(of: "first.last", separator: ".") == "user.first^last")
        #expect(BulkQuota.quotaRoot(of: "first.last", separator: "/") == "user/first.last")
    }
}
