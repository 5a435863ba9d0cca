import ClientNetworking
import Testing

/// The cipher suite read from a server's first TLS bytes, on bytes a real server sent.
@Suite("ServerHello cipher suite")
struct ServerHelloTests {
    /// The first 90 bytes Dovecot 2.3.19 (OpenSSL 3.0, Debian 12) sent to a Python client:
    /// record header, ServerHello, TLS 1.3 with TLS_AES_256_GCM_SHA384 (0x1302).
    static let dovecot = bytes(
        "160303007a020000760303faeffbac293eb3521facf81af799988782aea7038e2124b4b00d5da9c2c2fed12"
            + "09db3bb00655fd0bf3d52b3d7b1f8f04633bae05801c7253eb691b983925d49f0130200002e002b00020304003300")

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    @Test("a real ServerHello names its suite; the IANA name is known, an unknown one is its code point")
    func realServer() {
        #expect(ServerHello.cipherSuite(in: Self.dovecot) == .found(0x1302))
        #expect(CipherSuiteName.name(of: 0x1302) == "TLS_AES_256_GCM_SHA384")
        #expect(CipherSuiteName.name(of: 0x00FF) == "0x00FF")
    }

    @Test("cut anywhere before the suite's second byte, more bytes are asked for")
    func split() {
        for cut in 0..<78 {
            #expect(ServerHello.cipherSuite(in: Array(Self.dovecot.prefix(cut))) == .needMore, "cut at \(cut)")
        }
        #expect(ServerHello.cipherSuite(in: Array(Self.dovecot.prefix(78))) == .found(0x1302))
        #expect(ServerHello.bytesNeeded >= 78)
    }

    @Test("an alert, another handshake message or an oversized session id is not a ServerHello")
    func hostile() {
        #expect(ServerHello.cipherSuite(in: [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]) == .notServerHello)
        var other = Self.dovecot
        other[5] = 0x0B
        #expect(ServerHello.cipherSuite(in: other) == .notServerHello)
        var long = Self.dovecot
        long[43] = 0xFF
        #expect(ServerHello.cipherSuite(in: long) == .notServerHello)
        // Plaintext IMAP where TLS was expected.
        #expect(ServerHello.cipherSuite(in: Array("* OK IMAP4rev1 ready\r\n".utf8)) == .notServerHello)
    }
}
