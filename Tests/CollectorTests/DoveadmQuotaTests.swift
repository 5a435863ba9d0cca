import Collector
import Foundation
import MailGaugeCore
import Testing

/// The doveadm HTTP API's answers, read from the bytes Dovecot 2.3.19 sent (Transcripts/),
/// then every way a hostile server could bend them.
@Suite("doveadm quota answers")
struct DoveadmQuotaTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")
    static func transcript(_ name: String) throws -> Data { try Data(contentsOf: directory.appendingPathComponent(name)) }
    static let users = ["alice", "carol", "dave", "nosuchuser", "oscar"]

    static func quota(_ resources: [(String, UInt64, UInt64)], root: String = "User quota") -> BulkQuota.Reading {
        .quota(resources.isEmpty ? .unlimited : .ok,
               [QuotaRootUsage(name: root, resources: resources.map { ResourceUsage(resource: $0.0, usage: $0.1, limit: $0.2) })])
    }

    @Test("Dovecot 2.3.19's answer: the figures IMAP's GETQUOTAROOT gives, no-limit resources left out")
    func realAnswer() throws {
        let readings = try DoveadmQuota.readings(try Self.transcript("dovecot-2.3.19-doveadm-quotaGet.json"), users: Self.users)
        #expect(readings.count == 5)
        // The same figures `doveadm quota get -u` prints and the IMAP probe stores.
        #expect(readings["alice"] == Self.quota([("STORAGE", 2512, 5000)]))
        #expect(readings["carol"] == Self.quota([("STORAGE", 3890, 4000), ("MESSAGE", 317, 400)]))
        #expect(readings["dave"] == Self.quota([]))
        #expect(readings["nosuchuser"] == .refused("doveadm: no such user"))
        #expect(readings["oscar"] == Self.quota([("STORAGE", 628, 600), ("MESSAGE", 98, 110)]))
    }

    @Test("the request: one quotaGet per user, tagged by position, names escaped as JSON")
    func request() throws {
        let body = DoveadmQuota.requestBody(users: ["alice", "we\"ird\\user\u{1}", "李"])
        let parsed = try #require(try JSONSerialization.jsonObject(with: body) as? [[Any]])
        #expect(parsed.count == 3)
        #expect(parsed[1][0] as? String == "quotaGet")
        #expect((parsed[1][1] as? [String: String])?["user"] == "we\"ird\\user\u{1}")
        #expect(parsed.map { $0[2] as? String } == ["0", "1", "2"])
    }

    @Test("Dovecot's own malformed answer (no comma between errors) is refused whole")
    func dovecotsMalformedErrors() throws {
        let body = try Self.transcript("dovecot-2.3.19-doveadm-invalid-request.json")
        #expect(throws: DoveadmQuota.ResponseError.self) { try DoveadmQuota.readings(body, users: ["alice", "bob"]) }
    }

    @Test("every truncation of a real answer is refused, never read in part")
    func truncations() throws {
        let body = try Self.transcript("dovecot-2.3.19-doveadm-quotaGet.json")
        for length in 0..<body.count {
            #expect(throws: DoveadmQuota.ResponseError.self) { try DoveadmQuota.readings(body.prefix(length), users: Self.users) }
        }
    }

    @Test("every one-byte corruption is refused, or read within bounds")
    func corruptions() throws {
        let body = try Self.transcript("dovecot-2.3.19-doveadm-quotaGet.json")
        for i in 0..<body.count {
            for replacement in [UInt8(ascii: "9"), UInt8(ascii: "\""), UInt8(ascii: "-"), 0xFF, 0x00] {
                var bent = body
                bent[bent.startIndex + i] = replacement
                guard let readings = try? DoveadmQuota.readings(bent, users: Self.users) else { continue }
                #expect(Set(readings.keys).isSubset(of: Set(Self.users)))
                for case .quota(_, let roots) in readings.values {
                    for resource in roots.flatMap(\.resources) {
                        #expect(resource.usage <= UInt64(Int64.max) && resource.limit <= UInt64(Int64.max))
                    }
                }
            }
        }
    }

    static func answer(_ entries: String...) -> Data { Data("[\(entries.joined(separator: ","))]".utf8) }
    static func row(_ type: String = "STORAGE", value: String = "10", limit: String = "100", root: String = "User quota") -> String {
        #"{"root":"\#(root)","type":"\#(type)","value":"\#(value)","limit":"\#(limit)","percent":"10"}"#
    }

    @Test("answers that do not match the request are refused whole")
    func shapeAndTags() {
        let ok = #"["doveadmResponse",[\#(Self.row())],"0"]"#
        let refusedWhole: [Data] = [
            Data(#"{"a":1}"#.utf8),                                           // not an array
            Self.answer(ok),                                                  // one answer for two users
            Self.answer(ok, ok),                                              // a tag twice
            Self.answer(ok, #"["doveadmResponse",[],"2"]"#),                   // a tag never sent
            Self.answer(ok, #"["doveadmResponse",[],"-1"]"#),
            Self.answer(ok, #"["doveadmResponse",[],"00000001"]"#),            // long tag
            Self.answer(ok, #"["doveadmResponse",[],1]"#),                     // tag not a string
            Self.answer(ok, #"["doveadmResponse",{},"1"]"#),                   // payload not a list
            Self.answer(ok, #"["somethingElse",[],"1"]"#),                     // unknown kind
            Self.answer(ok, #"["doveadmResponse",[]]"#),                       // two fields
            Data("[\(String(repeating: "[", count: 100_000))".utf8),          // nesting
        ]
        for body in refusedWhole {
            #expect(throws: DoveadmQuota.ResponseError.self, "\(String(decoding: body.prefix(80), as: UTF8.self))") {
                try DoveadmQuota.readings(body, users: ["a", "b"])
            }
        }
        // Answers in any order are matched by tag, not position.
        let swapped = Self.answer(#"["doveadmResponse",[\#(Self.row(value: "7"))],"1"]"#, ok)
        #expect((try? DoveadmQuota.readings(swapped, users: ["a", "b"]))?["b"] == Self.quota([("STORAGE", 7, 100)]))
    }

    @Test("an unusable figure leaves that user without a reading; the others are read")
    func figures() throws {
        let bad = [Self.row(value: "-5"), Self.row(value: "9223372036854775808"), Self.row(limit: "18446744073709551616"),
                   Self.row(value: "1e3"), Self.row(value: ""), Self.row(value: " 1"), Self.row("STOR AGE"),
                   Self.row(String(repeating: "X", count: 65)), Self.row(root: "User\\u0007quota"),
                   Self.row(root: String(repeating: "r", count: 300)), Self.row(root: ""),
                   Self.row() + "," + Self.row(),                             // one resource twice
                   Array(repeating: Self.row(), count: 33).enumerated().map { Self.row("R\($0.offset)") }.joined(separator: ",")]
        for rows in bad {
            let body = Self.answer(#"["doveadmResponse",[\#(rows)],"0"]"#, #"["doveadmResponse",[\#(Self.row(value: "9"))],"1"]"#)
            let readings = try DoveadmQuota.readings(body, users: ["a", "b"])
            #expect(readings["a"] == nil, "\(rows.prefix(100))")
            #expect(readings["b"] == Self.quota([("STORAGE", 9, 100)]))
        }
        // The largest figure IMAP allows is read as it is.
        let max = Self.answer(#"["doveadmResponse",[\#(Self.row(value: "9223372036854775807", limit: "9223372036854775807"))],"0"]"#)
        #expect(try DoveadmQuota.readings(max, users: ["a"])["a"] == Self.quota([("STORAGE", UInt64(Int64.max), UInt64(Int64.max))]))
        // Other error kinds say what doveadm said.
        let error = Self.answer(#"["error",{"type":"exitCode","exitCode":75},"0"]"#, #"["error","x","1"]"#)
        let readings = try DoveadmQuota.readings(error, users: ["a", "b"])
        #expect(readings["a"] == .refused("doveadm: error, exit code 75"))
        #expect(readings["b"] == .refused("doveadm: error, exit code unknown"))
    }

    @Test("an answer larger than the bound is refused before it is parsed")
    func size() {
        let huge = Data(repeating: 0x20, count: DoveadmQuota.maxResponseBytes(users: 2) + 1)
        #expect(throws: DoveadmQuota.ResponseError.self) { try DoveadmQuota.readings(huge, users: ["a", "b"]) }
    }

    // MARK: - allUsers, read as it streams

    static func allUsers(_ body: Data, users: Set<String>, chunk: Int = 1 << 20) throws(DoveadmQuota.ResponseError) -> [String: BulkQuota.Reading] {
        var reader = DoveadmQuota.AllUsersReader(users: users)
        var start = body.startIndex
        while start < body.endIndex {
            let end = min(start + chunk, body.endIndex)
            try reader.consume(body[start..<end])
            start = end
        }
        return try reader.finish()
    }

    @Test("allUsers from Dovecot 2.3.19: the listed users' figures equal the per-user answer's, in any chunking")
    func allUsersRealAnswer() throws {
        let body = try Self.transcript("dovecot-2.3.19-doveadm-quotaGet-allUsers.json")
        let perUser = try DoveadmQuota.readings(try Self.transcript("dovecot-2.3.19-doveadm-quotaGet.json"), users: Self.users)
        let listed: Set<String> = ["alice", "carol", "dave", "oscar", "nosuchuser"]
        for chunk in [1, 2, 7, 64, 1 << 20] {
            let readings = try Self.allUsers(body, users: listed, chunk: chunk)
            #expect(readings.count == 5, "chunk \(chunk)")
            for user in ["alice", "carol", "dave", "oscar"] { #expect(readings[user] == perUser[user], "\(user), chunk \(chunk)") }
            #expect(readings["nosuchuser"] == .refused("doveadm: not in allUsers' answer (no such user, or no quota)"))
        }
        var reader = DoveadmQuota.AllUsersReader(users: [])
        try reader.consume(body)
        #expect(try reader.finish().isEmpty && reader.rowCount == 24)  // 12 seeded users, two resources each
    }

    @Test("allUsers: every truncation is refused; every one-byte corruption refused or read within bounds")
    func allUsersTruncationsAndCorruptions() async throws {
        let body = try Self.transcript("dovecot-2.3.19-doveadm-quotaGet-allUsers.json")
        let listed: Set<String> = ["alice", "bob", "oscar"]
        for length in 0..<body.count {
            #expect(throws: DoveadmQuota.ResponseError.self) { try Self.allUsers(body.prefix(length), users: listed) }
        }
        for i in 0..<body.count {
            // Seconds of parsing in all: other tests (some timing a deadline) share the
            // two cooperative threads of a CI machine, so this one lets them run.
            if i % 64 == 0 { await Task.yield() }
            for replacement in [UInt8(ascii: "9"), UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "]")] {
                var bent = body
                bent[bent.startIndex + i] = replacement
                guard let readings = try? Self.allUsers(bent, users: listed, chunk: 97) else { continue }
                #expect(Set(readings.keys).isSubset(of: listed))
                for case .quota(_, let roots) in readings.values {
                    #expect(roots.flatMap(\.resources).allSatisfy { $0.usage <= UInt64(Int64.max) && $0.limit <= UInt64(Int64.max) })
                }
            }
        }
    }

    static func allRow(_ user: String, _ type: String = "STORAGE", value: String = "10", limit: String = "100") -> String {
        #"{"username":"\#(user)","root":"User quota","type":"\#(type)","value":"\#(value)","limit":"\#(limit)","percent":"1"}"#
    }

    @Test("allUsers: answers bent out of shape are refused whole; a user's bad rows cost only that user")
    func allUsersHostile() throws {
        let a = Self.allRow("a"), b = Self.allRow("b", value: "7")
        func answer(_ rows: String, tail: String = #","all"]]"#) -> Data { Data((#"[["doveadmResponse",["# + rows + "]" + tail).utf8) }
        let refused: [(Data, String)] = [
            (answer("\(a),,\(b)"), "a byte out of place"),
            (answer(",\(a)"), "a byte out of place"),
            (answer("\(a),"), "a byte out of place"),
            (answer("\(a) 1"), "a byte out of place"),
            (answer(#"{"username":"a","x":{"y":1}}"#), "not flat"),
            (answer(#"{"username":"a","x":[1]}"#), "not flat"),
            (answer(#"{"username":"a","pad":""# + String(repeating: "x", count: 5000) + #""}"#), "longer than 4096"),
            (answer(#"{"root":"User quota"}"#), "without a username"),
            (answer(#"{"username":"a" "root":1}"#), "not a JSON object"),
            (answer(a, tail: #","other"]]"#), "the tag sent"),
            (answer(a, tail: #","all"],["doveadmResponse",[],"all"]]"#), "the tag sent"),
            (answer(a, tail: #","all"]] x"#), "after the answer's end"),
            (answer(a, tail: #",""# + String(repeating: "x", count: 70_000) + #""]]"#), "outside the rows"),
            (Data(#"[[{"a":{"b":{"c":1}}}]]"#.utf8), "nested deeper"),
            (Data(#"[["doveadmResponse",[],"all"}]"#.utf8), "unbalanced"),
            (Data(#"[["doveadmResponse",[],"all"]]]"#.utf8), "after the answer's end"),
            (Data(#"[["doveadmResponse",{"username":"a"},"all"]]"#.utf8), "the rows are not a list"),
        ]
        for (body, reason) in refused {
            do {
                _ = try Self.allUsers(body, users: ["a", "b"], chunk: 13)
                Issue.record("read: \(reason)")
            } catch {
                #expect(error.description.contains(reason), "\(reason): \(error)")
                #expect(error.doveadmExitCode == nil)
            }
        }
        // doveadm's own refusal carries its exit code: the client then asks per user.
        do {
            _ = try Self.allUsers(Data(#"[["error",{"type":"exitCode","exitCode":75},"all"]]"#.utf8), users: ["a"])
            Issue.record("an error answer was read")
        } catch {
            #expect(error.doveadmExitCode == 75)
        }
        // A listed user with an unusable figure, or more rows than any user has, has no
        // reading; the others are read.
        let tooMany = (0...32).map { Self.allRow("a", "R\($0)") }.joined(separator: ",")
        for rows in ["\(Self.allRow("a", value: "-1")),\(b)", "\(tooMany),\(b)", "\(a),\(a),\(b)"] {
            let readings = try Self.allUsers(answer(rows), users: ["a", "b"])
            #expect(readings["a"] == nil && readings["b"] == Self.quota([("STORAGE", 7, 100)]), "\(rows.prefix(80))")
        }
        // Whitespace between the parts is JSON, and taken.
        let spaced = Data("[ [ \"doveadmResponse\" , [ \(a) ,\n \(b) ] , \"all\" ] ]\n".utf8)
        #expect(try Self.allUsers(spaced, users: ["a", "b"]).count == 2)
    }
}
