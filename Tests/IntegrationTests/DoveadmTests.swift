import Collector
import Foundation
import MailGaugeCore
import ScriptedServer
import Store
import Testing

extension TestDovecot {
    var doveadmURL: String { env["MAILGAUGE_DOVECOT_DOVEADM_URL"]! }
    var doveadmKeyFile: String { env["MAILGAUGE_DOVECOT_DOVEADM_KEY_FILE"]! }
    var doveadmKey: String { ((try? String(contentsOfFile: doveadmKeyFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines) }
    var tlsDirectory: String { "\(env["MAILGAUGE_DOVECOT_DIR"]!)/tls" }
}

/// `master.mode: dovecot_doveadm` against the project's Dovecot 2.3.19 with its doveadm
/// HTTP API on (TLS, API key), and the API's transport against a scripted misbehaving one.
@Suite("Dovecot's doveadm HTTP API", .serialized, .requires(.dovecot, .sqlite3))
struct DoveadmTests {
    /// Seeded users no other test changes (frank's and hank's limits move; scale users come and go).
    static let users = ["alice", "bob", "carol", "dave", "erin", "ivan", "mona", "oscar", "pia", "tlswatch"]

    @Test("every figure equals `doveadm quota get`, read with allUsers and per user; an unknown user is refused",
          arguments: [true, false])
    func figuresEqualDoveadm(allUsers: Bool) async throws {
        let dovecot = try await TestDovecot.shared()
        let endpoint = DoveadmClient.Endpoint(url: dovecot.doveadmURL, caFile: dovecot.caFile, timeoutSeconds: 30, allowPlaintext: false,
                                              allUsers: allUsers)
        let reading = try await DoveadmClient.read(endpoint, apiKey: dovecot.doveadmKey, users: Self.users + ["nosuchuser"])
        #expect(reading.fellBackToPerUser == nil)
        let readings = reading.quotas
        #expect(readings.count == Self.users.count + 1)
        guard case .refused = readings["nosuchuser"] else {
            Issue.record("nosuchuser: \(String(describing: readings["nosuchuser"]))")
            return
        }
        for user in Self.users {
            let truth = try await dovecot.doveadmQuota(user)
            guard case .quota(let status, let roots) = try #require(readings[user], "\(user)") else {
                Issue.record("\(user): \(String(describing: readings[user]))")
                continue
            }
            // As IMAP's GETQUOTAROOT: one root, "User quota", with the resources that have a limit.
            let limited = truth.filter { $0.limit != nil }
            #expect(status == (limited.isEmpty ? .unlimited : .ok), "\(user)")
            #expect(roots.map(\.name) == ["User quota"], "\(user)")
            #expect(roots.first?.resources == limited.map { ResourceUsage(resource: $0.resource, usage: $0.value, limit: $0.limit!) },
                    "\(user): \(roots) vs \(truth)")
        }
        // More users than one batch: every one answered (the seeded ones, then unknowns).
        guard !allUsers else { return }
        let many = Self.users + (0..<(DoveadmQuota.batchSize + 20)).map { "nobody\($0)" }
        let all = try await DoveadmClient.quotas(endpoint, apiKey: dovecot.doveadmKey, users: many)
        #expect(all.count == many.count && all["nobody\(DoveadmQuota.batchSize + 19)"] == .refused("doveadm: no such user"))
        #expect(all["carol"] == readings["carol"])
    }

    @Test("a wrong key is refused by Dovecot; an untrusted certificate stops the key from being sent; no key in errors")
    func refusals() async throws {
        let dovecot = try await TestDovecot.shared()
        let endpoint = DoveadmClient.Endpoint(url: dovecot.doveadmURL, caFile: dovecot.caFile, timeoutSeconds: 30, allowPlaintext: false)
        func failure(_ endpoint: DoveadmClient.Endpoint, key: String) async -> String? {
            do {
                _ = try await DoveadmClient.quotas(endpoint, apiKey: key, users: ["alice"])
                return nil
            } catch {
                return error.description
            }
        }
        let port = URLComponents(string: dovecot.doveadmURL)!.port!
        #expect(await failure(endpoint, key: "not-the-key") == "doveadm API https://localhost:\(port): the API key was refused (HTTP 401)")
        var otherCA = endpoint
        otherCA.caFile = dovecot.otherCAFile
        let tls = await failure(otherCA, key: dovecot.doveadmKey)
        #expect(tls?.contains("TLS") == true && tls?.contains(dovecot.doveadmKey) == false, "\(tls ?? "succeeded")")
    }

    @Test("run: the API read every interval; accounts at or near a threshold probed with it, the rest stored quota-only")
    func runReadsInBulk() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-doveadm")
        let users = ["alice", "bob", "carol", "dave", "oscar"]
        try users.joined(separator: "\n").write(to: dir.appendingPathComponent("users.txt"), atomically: true, encoding: .utf8)
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try """
            \(TestConfig.header(dovecot, dir: dir))
            # A short pass, so the API's interval comes round in the test; the interval is
            # long beside a run's length, so a slow first run (a loaded CI machine) does
            # not make the second one due.
            schedule: { interval: 4s }
            master:
              user: \(dovecot.masterUser)
              password_file: \(dovecot.masterPasswordFile)
              mode: dovecot_doveadm
              users_file: users.txt
              server: dovecot
              doveadm: { url: "\(dovecot.doveadmURL)", api_key_file: \(dovecot.doveadmKeyFile), interval: 16s }
            alerts: { stdout: false }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func run() async throws -> String {
            let out = try await Subprocess.run(Paths.mailgauge, ["run", "-c", config], timeoutSeconds: 120)
            #expect(out.status == 0, "\(out.stdout) \(out.stderr)")
            #expect(!out.stdout.contains(dovecot.doveadmKey) && !out.stderr.contains(dovecot.doveadmKey))
            return out.stdout
        }
        // First pass: every account is new, so each is probed; the API is read beside.
        let first = try await run()
        // Its probes set the at-risk accounts' next folder probe one API interval (16 s) on,
        // due within half a pass of it: 14 s after the pass at the latest.
        let firstEnded = Date()
        #expect(first.contains("run 1: 5 accounts; quota of 5 read over the doveadm API"), "\(first)")
        // Second pass, within the interval (16 s, less half a pass): no reading, nothing due.
        let second = try await run()
        #expect(second.contains("run 2: 0 accounts (5 not due), 0 failed"), "\(second)")
        // Third pass, once the interval has passed: the API again; bob (87 %), carol (97 %)
        // and oscar (over), at risk, have their folder probe with each reading (not every
        // pass); alice and dave are stored from the reading alone.
        try await Task.sleep(for: .seconds(max(0, 14.5 - Date().timeIntervalSince(firstEnded))))
        let third = try await run()
        #expect(third.contains("run 3: 3 accounts (2 not due); quota of 5 read over the doveadm API"), "\(third)")

        let db = "\(dir.path)/mailgauge.sqlite"
        let methods = try await Subprocess.run("/usr/bin/sqlite3", [db, "SELECT account_id, method FROM probe WHERE run_id = 3 ORDER BY 1"]).stdout
        #expect(methods == "alice|bulk_quota\nbob|list-status\ncarol|list-status\ndave|bulk_quota\noscar|list-status\n", "\(methods)")
        let readings = try await Subprocess.run("/usr/bin/sqlite3", [db, "SELECT source FROM bulk_reading"]).stdout
        // Stored as every output shows it (scheme, host and port): no path or token.
        let origin = try #require(URLComponents(string: dovecot.doveadmURL))
        #expect(readings == "\(origin.scheme!)://\(origin.host!):\(origin.port!)\n" && !readings.contains("/doveadm"), "\(readings)")
        let states = Dictionary(uniqueKeysWithValues: try AppDatabase(path: db).latestStates().map { ($0.id, $0) })
        for user in users {
            let truth = try await dovecot.doveadmQuota(user).filter { $0.limit != nil }
            let stored = try #require(states[user]).quota
            #expect(Set(stored.map { ResourceUsage(resource: $0.resource, usage: $0.usage, limit: $0.limit) })
                        == Set(truth.map { ResourceUsage(resource: $0.resource, usage: $0.value, limit: $0.limit!) }), "\(user)")
        }
    }
}

/// The transport against a server that misbehaves: every answer bounded in size and time,
/// no redirect followed, the key never sent unencrypted or before a verified handshake.
@Suite("doveadm API transport against a misbehaving server", .requires(.dovecot))
struct DoveadmTransportTests {
    static func endpoint(_ server: ScriptedHTTPServer, scheme: String = "https", caFile: String, timeout: Double = 3,
                         plaintext: Bool = false, allUsers: Bool = false) -> DoveadmClient.Endpoint {
        DoveadmClient.Endpoint(url: "\(scheme)://localhost:\(server.port)/doveadm/v1", caFile: caFile, timeoutSeconds: timeout,
                               allowPlaintext: plaintext, allUsers: allUsers)
    }

    static func failure(_ endpoint: DoveadmClient.Endpoint, users: [String] = ["alice"]) async -> String? {
        do {
            _ = try await DoveadmClient.quotas(endpoint, apiKey: "s3cret-api-key", users: users)
            return nil
        } catch {
            #expect(!error.description.contains("s3cret-api-key"))
            return error.description
        }
    }

    @Test("allUsers: an endless or oversized answer is cut off; a refusal falls back to per-user commands")
    func allUsers() async throws {
        let dovecot = try await TestDovecot.shared()
        let tls = (certificate: "\(dovecot.tlsDirectory)/server.pem", key: "\(dovecot.tlsDirectory)/server.key")
        // Rows of users nobody listed, forever: memory stays flat, the deadline ends it.
        let row = #"{"username":"x","root":"r","type":"STORAGE","value":"1","limit":"2","percent":"50"},"#
        let endless = try await ScriptedHTTPServer(tls: tls, behaviour: .drip(
            head: Array(("HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n" + #"[["doveadmResponse",["# + row).utf8), milliseconds: 1))
        let endlessMessage = await Self.failure(Self.endpoint(endless, caFile: dovecot.caFile, timeout: 2, allUsers: true))
        #expect(endlessMessage?.contains("no complete answer within 2 s") == true, "\(endlessMessage ?? "succeeded")")
        await endless.close()
        // A row that never ends.
        let long = try await ScriptedHTTPServer(tls: tls, behaviour: .respond(ScriptedHTTPServer.answer(
            body: #"[["doveadmResponse",[{"username":""# + String(repeating: "x", count: 10_000) + #""}],"all"]]"#)))
        let longMessage = await Self.failure(Self.endpoint(long, caFile: dovecot.caFile, allUsers: true))
        #expect(longMessage?.contains("a row longer than 4096 bytes") == true, "\(longMessage ?? "succeeded")")
        await long.close()
        // doveadm refuses allUsers (a user database it cannot list): the same pass asks per user.
        let refusing = try await ScriptedHTTPServer(tls: tls, behaviour: .answer { request in
            request.contains("allUsers")
                ? ScriptedHTTPServer.answer(body: #"[["error",{"type":"exitCode","exitCode":75},"all"]]"#)
                : ScriptedHTTPServer.answer(body: #"[["doveadmResponse",[{"root":"User quota","type":"STORAGE","value":"5","limit":"10","percent":"50"}],"0"]]"#)
        })
        let reading = try await DoveadmClient.read(Self.endpoint(refusing, caFile: dovecot.caFile, allUsers: true), apiKey: "k", users: ["alice"])
        #expect(reading.fellBackToPerUser?.contains("allUsers refused, exit code 75") == true)
        #expect(reading.quotas["alice"] == .quota(.ok, [QuotaRootUsage(name: "User quota", resources: [ResourceUsage(resource: "STORAGE", usage: 5, limit: 10)])]))
        await refusing.close()
    }

    @Test("oversized, endless, silent, redirecting and refusing servers each fail with a reason")
    func hostileAnswers() async throws {
        let dovecot = try await TestDovecot.shared()
        let tls = (certificate: "\(dovecot.tlsDirectory)/server.pem", key: "\(dovecot.tlsDirectory)/server.key")
        let bound = DoveadmQuota.maxResponseBytes(users: 1)
        let cases: [(ScriptedHTTPServer.Behaviour, String)] = [
            (.respond(ScriptedHTTPServer.answer(body: String(repeating: " ", count: bound + 1))), "answer larger than \(bound) bytes"),
            (.drip(head: Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n".utf8), milliseconds: 20),
             "no complete answer within 3 s"),
            (.silent, "no complete answer within 3 s"),
            (.respond(ScriptedHTTPServer.answer(status: "307 Temporary Redirect", headers: ["Location: https://localhost:1/steal"], body: "")),
             "HTTP 307"),
            (.respond(ScriptedHTTPServer.answer(status: "403 Forbidden", body: "")), "the API key was refused (HTTP 403)"),
            (.respond(ScriptedHTTPServer.answer(body: #"[["doveadmResponse",[],"7"]]"#)), "an answer is not [kind, payload, tag]"),
            (.respond(Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n[]".utf8)), "the connection ended before the answer did"),
        ]
        for (behaviour, reason) in cases {
            let server = try await ScriptedHTTPServer(tls: tls, behaviour: behaviour)
            let started = ContinuousClock.now
            let message = await Self.failure(Self.endpoint(server, caFile: dovecot.caFile))
            #expect(message?.contains(reason) == true, "\(reason): \(message ?? "succeeded")")
            #expect(started.duration(to: .now) < .seconds(10), "\(reason): bounded in time")
            // It did get the request, over TLS, with the key: the server was trusted.
            let plaintext = await server.receivedPlaintext
            #expect(plaintext.contains("Authorization: X-Dovecot-API"))
            await server.close()
        }
    }

    @Test("the key is never sent in the clear, nor to a server whose certificate fails")
    func keyProtection() async throws {
        let dovecot = try await TestDovecot.shared()
        let tls = (certificate: "\(dovecot.tlsDirectory)/server.pem", key: "\(dovecot.tlsDirectory)/server.key")
        let key = Array("s3cret-api-key".utf8)
        let base64 = Array("czNjcmV0LWFwaS1rZXk=".utf8)
        // An untrusted certificate: the handshake fails before any request.
        let untrusted = try await ScriptedHTTPServer(tls: tls, behaviour: .respond(ScriptedHTTPServer.answer(body: "[]")))
        let message = await Self.failure(Self.endpoint(untrusted, caFile: dovecot.otherCAFile))
        #expect(message?.contains("TLS") == true, "\(message ?? "succeeded")")
        #expect(await untrusted.receivedPlaintext.isEmpty)
        await untrusted.close()
        // http:// without the opt-in: refused before connecting.
        let plain = try await ScriptedHTTPServer(tls: nil, behaviour: .respond(ScriptedHTTPServer.answer(body: "[]")))
        let refused = await Self.failure(Self.endpoint(plain, scheme: "http", caFile: dovecot.caFile))
        #expect(refused?.contains("refusing to send the API key: the URL is not https") == true, "\(refused ?? "succeeded")")
        #expect(await plain.receivedBytes.isEmpty)
        // With the opt-in it goes (and the wire shows what that means).
        let allowed = await Self.failure(Self.endpoint(plain, scheme: "http", caFile: dovecot.caFile, plaintext: true))
        #expect(allowed?.contains("answers for 1 users") == true, "\(allowed ?? "succeeded")")
        #expect(await plain.receivedBytes.firstRange(of: base64) != nil)
        await plain.close()
        // Over TLS, the key's base64 never crosses the wire readable.
        let trusted = try await ScriptedHTTPServer(tls: tls, behaviour: .respond(ScriptedHTTPServer.answer(body: "[]")))
        _ = await Self.failure(Self.endpoint(trusted, caFile: dovecot.caFile))
        #expect(await trusted.receivedPlaintext.contains("X-Dovecot-API czNjcmV0LWFwaS1rZXk="))
        let wire = await trusted.receivedBytes
        #expect(wire.firstRange(of: base64) == nil && wire.firstRange(of: key) == nil)
        await trusted.close()
    }
}
