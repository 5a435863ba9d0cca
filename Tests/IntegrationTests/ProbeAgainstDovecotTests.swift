import Foundation
import MailGaugeCore
import Testing

/// `mailgauge probe` against the project's Dovecot: every figure must equal what Dovecot
/// itself reports through doveadm, over both TLS modes and with each folder method.
@Suite("probe matches doveadm", .requires(.dovecot))
struct ProbeAgainstDovecotTests {
    enum Transport: String, CaseIterable, Sendable { case imaps, starttls }

    static let users = ["alice", "bob", "carol", "dave", "erin"]

    func probe(_ dovecot: TestDovecot, user: String, transport: Transport, method: String? = nil,
               extra: [String] = []) async throws -> Subprocess.Output {
        let url = transport == .imaps
            ? "imaps://\(user)@\(dovecot.host):\(dovecot.imapsPort)"
            : "imap://\(user)@\(dovecot.host):\(dovecot.imapPort)"
        var args = ["probe", url, "--ca-file", dovecot.caFile, "--json"]
        if !extra.contains("--password-file") && !extra.contains("--token-file") {
            args += ["--password-file", dovecot.account(user).password_file]
        }
        if let method { args += ["--method", method] }
        return try await Subprocess.run(Paths.mailgauge, args + extra)
    }

    func snapshot(_ output: Subprocess.Output) throws -> MailboxSnapshot {
        guard output.status == 0 else { throw TestFailure("probe exited \(output.status): \(output.stderr)") }
        return try JSONDecoder().decode(MailboxSnapshot.self, from: Data(output.stdout.utf8))
    }

    /// Quota resources with a limit must be reported exactly (Dovecot lists unlimited
    /// resources with "-": IMAP leaves them out); folders must match name, count and size.
    func expectMatchesDoveadm(_ snap: MailboxSnapshot, user: String, dovecot: TestDovecot) async throws {
        let truth = try await dovecot.doveadmQuota(user).filter { $0.limit != nil }
        let reported = snap.quotaRoots.flatMap(\.resources)
        #expect(Set(reported.map { "\($0.resource) \($0.usage)/\($0.limit)" })
            == Set(truth.map { "\($0.resource) \($0.value)/\($0.limit!)" }), "quota of \(user)")
        #expect(snap.quotaStatus == (truth.isEmpty ? .unlimited : .ok), "quota status of \(user)")
        let folders = try await dovecot.doveadmFolders(user)
        #expect(!folders.isEmpty)
        var byName: [String: String] = [:]
        for f in snap.folders { byName[f.name] = "\(f.messages) msgs, \(f.sizeBytes.map { "\($0)" } ?? "?") B" }
        #expect(byName == folders.mapValues { "\($0.0) msgs, \($0.1) B" }, "folders of \(user)")
    }

    @Test("figures equal doveadm's for every seeded account, each transport, each method",
          arguments: users, Transport.allCases)
    func figuresEqualDoveadm(user: String, transport: Transport) async throws {
        let dovecot = try await TestDovecot.shared()
        var seen: [String: MailboxSnapshot] = [:]
        for method in ["auto", "list-status", "status", "fetch"] {
            let snap = try await snapshot(try probe(dovecot, user: user, transport: transport, method: method))
            #expect(snap.method.rawValue == (method == "auto" ? "list-status" : method))
            try await expectMatchesDoveadm(snap, user: user, dovecot: dovecot)
            seen[method] = snap
        }
        // All three methods agree with each other, folder by folder.
        let folderSets = seen.values.map { Set($0.folders) }
        #expect(Set(folderSets).count == 1, "methods disagree for \(user)")
    }

    @Test("special-use attributes, decoded names and raw wire names")
    func namesAndSpecialUse() async throws {
        let dovecot = try await TestDovecot.shared()
        let snap = try await snapshot(try probe(dovecot, user: "alice", transport: .imaps))
        let byName = Dictionary(uniqueKeysWithValues: snap.folders.map { ($0.name, $0) })
        #expect(byName["Sent"]?.specialUse == ["\\Sent"])
        #expect(byName["Trash"]?.specialUse == ["\\Trash"])
        #expect(byName["归档/2024"]?.rawName == "&X1JoYw-/2024")
        #expect(byName["Entwürfe"]?.rawName == "Entw&APw-rfe")
        #expect(byName["Projects \"Q3\" plan"] != nil)
        #expect(byName["归档"] == nil, "\\Noselect parent must be skipped")
        #expect(snap.capabilities.contains("QUOTA"), "capabilities re-read after login")
    }

    @Test("200 folders")
    func manyFolders() async throws {
        let dovecot = try await TestDovecot.shared()
        let snap = try await snapshot(try probe(dovecot, user: "erin", transport: .imaps))
        #expect(snap.folders.count == 200)
    }

    @Test("Dovecot master user via SASL PLAIN authorization id")
    func masterUser() async throws {
        let dovecot = try await TestDovecot.shared()
        let out = try await probe(dovecot, user: dovecot.masterUser, transport: .starttls,
                            extra: ["--password-file", dovecot.masterPasswordFile, "--authzid", "bob", "--auth", "plain"])
        try await expectMatchesDoveadm(try snapshot(out), user: "bob", dovecot: dovecot)
    }

    @Test("LOGIN, XOAUTH2 and OAUTHBEARER (this Dovecot checks the token like a password)",
          arguments: ["login", "xoauth2", "oauthbearer"])
    func otherMechanisms(mechanism: String) async throws {
        let dovecot = try await TestDovecot.shared()
        let secretOption = mechanism == "login" ? "--password-file" : "--token-file"
        let out = try await probe(dovecot, user: "carol", transport: .imaps,
                            extra: [secretOption, dovecot.account("carol").password_file, "--auth", mechanism])
        try await expectMatchesDoveadm(try snapshot(out), user: "carol", dovecot: dovecot)
    }

    @Test("human output: quota table and folders sorted by size")
    func humanOutput() async throws {
        let dovecot = try await TestDovecot.shared()
        let out = try await Subprocess.run(Paths.mailgauge, [
            "probe", "imaps://alice@localhost:\(dovecot.imapsPort)", "--ca-file", dovecot.caFile,
            "--password-file", dovecot.account("alice").password_file,
        ])
        #expect(out.status == 0)
        #expect(out.stdout.contains("STORAGE"))
        #expect(out.stdout.contains("4.88 MiB"))  // 5000 KiB limit
        let folderLines = out.stdout.split(separator: "\n").drop { !$0.contains("FOLDER") }.dropFirst()
        #expect(folderLines.first?.contains("INBOX") == true, "largest folder first")
    }
}
