import Foundation
@testable import IMAPCore
import Testing

/// Verbatim bytes captured from the project's Dovecot 2.3.19 (Transcripts/capture.py),
/// replayed whole and in arbitrary chunks.
@Suite("real-world transcripts")
struct TranscriptTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")

    static func load(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func parseAll(_ bytes: [UInt8], chunked seed: UInt64? = nil) throws -> [Response] {
        var parser = ResponseParser()
        var out: [Response] = []
        if var rng = seed.map(SplitMix.init) {
            var i = 0
            while i < bytes.count {
                let n = min(bytes.count - i, Int(rng.next() % 97) + 1)
                parser.append(bytes[i..<(i + n)])
                i += n
                while let r = try parser.next() { out.append(r) }
            }
        } else {
            parser.append(bytes)
            while let r = try parser.next() { out.append(r) }
        }
        #expect(parser.bufferedByteCount == 0)
        return out
    }

    static let files = [
        "dovecot-2.3.19-alice-imaps.imap", "dovecot-2.3.19-starttls-plaintext-part.imap",
        "dovecot-2.3.19-carol-authenticate.imap", "dovecot-2.3.19-dave-unlimited-and-errors.imap",
        "dovecot-2.3.19-erin-200-folders.imap", "dovecot-2.3.19-failed-login.imap",
    ]

    @Test("every transcript parses, and chunking changes nothing", arguments: files)
    func chunking(file: String) throws {
        let bytes = try Self.load(file)
        let whole = try Self.parseAll(bytes)
        #expect(!whole.isEmpty)
        for seed in 1...20 as ClosedRange<UInt64> {
            #expect(try Self.parseAll(bytes, chunked: seed) == whole)
        }
    }

    @Test("alice over implicit TLS: capabilities, quota, LIST-STATUS, FETCH with a literal")
    func alice() throws {
        let responses = try Self.parseAll(try Self.load("dovecot-2.3.19-alice-imaps.imap"))
        let untagged = responses.compactMap { if case .untagged(let u) = $0 { u } else { nil } }
        let caps = untagged.compactMap { if case .capability(let c) = $0 { c } else { nil } }
        #expect(caps.count == 3)
        #expect(caps[0].contains(.startTLS) == false && caps[0].contains("AUTH=PLAIN"))
        #expect(caps[1].isSuperset(of: [.quota, .listStatus, .statusSize, .specialUse]))
        #expect(untagged.contains(.quotaRoot(QuotaRoot(mailbox: .inbox, roots: ["User quota"]))))
        #expect(untagged.contains(.quota(Quota(root: "User quota", resources: [QuotaResource(name: "STORAGE", usage: 2512, limit: 5000)]))))
        #expect(untagged.contains(.id([IDParameter("name", "Dovecot")])))
        let lists = untagged.compactMap { if case .list(let l) = $0 { l } else { nil } }
        #expect(lists.count == 22)  // two LIST commands, 11 names each
        let archive = try #require(lists.first { $0.name.wire == "&X1JoYw-/2024" })
        #expect(archive.name.decoded == "归档/2024")
        #expect(lists.first { $0.name.wire == "&X1JoYw-" }?.isSelectable == false)
        #expect(lists.first { $0.name.decoded == "Trash" }?.specialUse == ["\\Trash"])
        #expect(lists.contains { $0.name.decoded == "Projects \"Q3\" plan" })
        let statuses = untagged.compactMap { if case .mailboxStatus(let s) = $0 { s } else { nil } }
        #expect(statuses.count == 11)
        #expect(statuses.allSatisfy { $0.messages != nil && $0.size != nil })
        let sent = try #require(statuses.last)
        #expect(sent.name.decoded == "Sent" && sent.uidValidity != nil && sent.highestModSeq != nil && sent.unseen == 0)
        let fetches = untagged.compactMap { if case .fetch(let n, let a) = $0 { (n, a) } else { nil } }
        let sizes = fetches.flatMap { $0.1 }.compactMap { if case .rfc822Size(let s) = $0 { s } else { nil } }
        #expect(sizes.count == fetches.count)
        let withHeader = try #require(fetches.last)
        #expect(withHeader.1.contains { if case .other(let name, .string(let body)) = $0 {
            name == "BODY[HEADER.FIELDS (SUBJECT FROM)]" && String(decoding: body, as: UTF8.self).hasPrefix("From: Sender")
        } else { false } })
        #expect(withHeader.1.contains { if case .internalDate = $0 { true } else { false } })
        #expect(responses.last == .tagged(tag: "a12", status: ResponseStatus(.ok, ResponseText(text: "Logout completed (0.001 + 0.000 secs)."))))
    }

    @Test("STARTTLS greeting lists STARTTLS; AUTHENTICATE continuation; unlimited and errors")
    func smallTranscripts() throws {
        let starttls = try Self.parseAll(try Self.load("dovecot-2.3.19-starttls-plaintext-part.imap"))
        guard case .untagged(.status(let greeting)) = starttls[0], case .capability(let caps)? = greeting.text.code else {
            Issue.record("no capability greeting"); return
        }
        #expect(caps.contains(.startTLS))
        #expect(starttls.last.map { if case .tagged("b2", let s) = $0 { s.kind == .ok } else { false } } == true)

        let carol = try Self.parseAll(try Self.load("dovecot-2.3.19-carol-authenticate.imap"))
        #expect(carol[1] == .continuation(""))
        guard case .tagged("c1", let login) = carol[2], case .capability(let after)? = login.text.code else {
            Issue.record("no capabilities with AUTHENTICATE OK"); return
        }
        #expect(after.contains(.quota))
        #expect(carol.contains(.untagged(.quota(Quota(root: "User quota", resources: [
            QuotaResource(name: "STORAGE", usage: 3890, limit: 4000), QuotaResource(name: "MESSAGE", usage: 317, limit: 400),
        ])))))

        let dave = try Self.parseAll(try Self.load("dovecot-2.3.19-dave-unlimited-and-errors.imap"))
        #expect(!dave.contains { if case .untagged(.quotaRoot) = $0 { true } else { false } }, "unlimited: no QUOTAROOT at all")
        #expect(dave.contains { if case .tagged("d3", let s) = $0 { s.kind == .bad } else { false } })
        #expect(dave.contains { if case .tagged("d4", let s) = $0 { s.kind == .no } else { false } })

        let failed = try Self.parseAll(try Self.load("dovecot-2.3.19-failed-login.imap"))
        #expect(failed[1] == .tagged(tag: "f1", status: ResponseStatus(.no, ResponseText(code: .authenticationFailed, text: "Authentication failed."))))
    }

    @Test("200 folders with LIST-STATUS")
    func erin() throws {
        let responses = try Self.parseAll(try Self.load("dovecot-2.3.19-erin-200-folders.imap"))
        let statuses = responses.compactMap { if case .untagged(.mailboxStatus(let s)) = $0 { s } else { nil } }
        #expect(statuses.count == 200)
        #expect(statuses.contains { $0.name.decoded == "报告/002" })
    }
}

/// Deterministic chunk sizes.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
