import ClientNetworking
import Collector
import IMAPClient
import MailGaugeCore
import ScriptedServer
import Testing

/// What a pass's connections to one server share: the host lookup and the TLS context,
/// which predicts the key-share group once a verified handshake has shown it.
@Suite("what a pass's connections share", .requires(.dovecot))
struct SharedConnectionSetupTests {
    func probe(_ dovecot: TestDovecot, _ user: String, context: TLSClientContext, addresses: AddressCache) async throws -> MailboxSnapshot {
        try await Prober(
            connection: ConnectionConfiguration(host: dovecot.host, port: dovecot.imapsPort, security: .implicitTLS,
                                                tlsContext: context, addresses: addresses, timeoutSeconds: 10),
            credentials: Credentials(user: user, secret: dovecot.account(user).password)).probe()
    }

    /// The ClientHello a context sends, as a silent server received it.
    func clientHello(_ context: TLSClientContext) async throws -> ClientHello {
        let server = try await ScriptedIMAPServer(greeting: nil) { _, _, _ in nil }
        defer { Task { await server.close() } }
        _ = try? await Prober(
            connection: ConnectionConfiguration(host: "127.0.0.1", port: server.port, security: .implicitTLS,
                                                tlsContext: context, timeoutSeconds: 1),
            credentials: Credentials(user: "u", secret: "never-sent")).probe()
        let bytes = await server.receivedBytes
        return try #require(ClientHello(bytes), "no ClientHello in \(bytes.count) bytes")
    }

    @Test("after a verified handshake with Dovecot, later connections send one key share, for the group it chose, without the group it declined")
    func keySharePrediction() async throws {
        let dovecot = try await TestDovecot.shared()
        let context = try TLSClientContext(caFile: dovecot.caFile)
        let standard = try await clientHello(context)
        #expect(standard.keyShareGroups == [0x11EC, 0x001D], "X25519MLKEM768 and X25519 before anything is learned")
        #expect(context.predictedKeyShareGroup == nil)

        let addresses = AddressCache()
        let first = try await probe(dovecot, "alice", context: context, addresses: addresses)
        // Debian 12's OpenSSL 3.0 has no ML-KEM: Dovecot takes X25519.
        #expect(first.connection?.tls?.version == "TLSv1.3")
        #expect(context.predictedKeyShareGroup == 0x001D)
        let predicted = try await clientHello(context)
        #expect(predicted.keyShareGroups == [0x001D])
        #expect(predicted.supportedGroups == [0x001D, 0x0017, 0x0018])

        // The next connections use it, and their figures are the same.
        let second = try await probe(dovecot, "alice", context: context, addresses: addresses)
        #expect(second.folders == first.folders && second.quotaRoots == first.quotaRoots)
        // One connection in 64 makes the full offer again: of 128 in a row, two.
        let handedOut = (0..<128).map { _ in ObjectIdentifier(context.context) }
        let counts = Dictionary(handedOut.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.values.sorted() == [2, 126])
    }

    @Test("a server whose choice keeps changing gets the standard offer for the rest of the pass")
    func changingChoice() async throws {
        let context = try TLSClientContext(caFile: nil)
        context.learnKeyShare(group: 0x001D)
        #expect(context.predictedKeyShareGroup == 0x001D)
        context.learnKeyShare(group: 0x11EC)  // the standard offer's first: nothing to predict
        #expect(context.predictedKeyShareGroup == nil)
        context.learnKeyShare(group: 0x0017)
        #expect(context.predictedKeyShareGroup == 0x0017)
        context.learnKeyShare(group: 0x001D)  // a third change: prediction stops
        #expect(context.predictedKeyShareGroup == nil)
        context.learnKeyShare(group: 0x0017)
        #expect(context.predictedKeyShareGroup == nil)
        let hello = try await clientHello(context)
        #expect(hello.keyShareGroups == [0x11EC, 0x001D])
    }
}

/// The fields of a TLS ClientHello these tests look at (RFC 8446 §4.1.2, §4.2.7, §4.2.8).
struct ClientHello {
    var supportedGroups: [UInt16] = []
    var keyShareGroups: [UInt16] = []

    init?(_ bytes: [UInt8]) {
        func u16(_ i: Int) -> Int? { i + 2 <= bytes.count ? Int(bytes[i]) << 8 | Int(bytes[i + 1]) : nil }
        // Record header 5, handshake header 4 (type 1), version 2, random 32.
        guard bytes.count > 43, bytes[0] == 22, bytes[5] == 1 else { return nil }
        var at = 43
        at += 1 + Int(bytes[at])  // session id
        guard let suites = u16(at) else { return nil }
        at += 2 + suites
        guard at < bytes.count else { return nil }
        at += 1 + Int(bytes[at])  // compression methods
        guard let extensionsLength = u16(at) else { return nil }
        at += 2
        let end = min(at + extensionsLength, bytes.count)
        while at + 4 <= end, let type = u16(at), let length = u16(at + 2) {
            let body = at + 4
            if type == 10, let listLength = u16(body) {
                supportedGroups = stride(from: body + 2, to: body + 2 + listLength, by: 2).compactMap { u16($0).map(UInt16.init) }
            }
            if type == 51, let sharesLength = u16(body) {
                var share = body + 2
                while share + 4 <= body + 2 + sharesLength, let group = u16(share), let keyLength = u16(share + 2) {
                    keyShareGroups.append(UInt16(group))
                    share += 4 + keyLength
                }
            }
            at = body + length
        }
    }
}
