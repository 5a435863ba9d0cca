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

    /// A whole ServerHello from the same Dovecot (`openssl s_client -msg`): TLS 1.3,
    /// supported_versions then key_share with X25519 (0x001D).
    static let dovecotWhole = bytes(
        "160303007a" + "020000760303c61950ed35756ff4518e5a0109d25d06b7dc85f8ef2db6a0242578df81705b0c2098586ec9"
            + "140834141218ed5f78df1111a87d0df26583a5bfecf90f71323bba1313020000" + "2e002b0002030400330024001d0020"
            + "b1d90eeb0311a9e46eb10eefee4a0c85b8907a3cbe3ef2d9c9fac64822bdac75")
    /// Its ServerHello under TLS 1.2 (`s_client -tls1_2`): extensions, none of them key_share.
    static let dovecotTLS12 = bytes(
        "1603030041" + "0200003d03035e6cc77d5f1ea8dcaf886e0b2ac860f692a54e1e8271ac70444f574e47524401" + "00c02c00"
            + "0015ff01000100000b000403000102002300000017" + "0000")

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
        #expect(ServerHello.maxObservedBytes >= 78)
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

    @Test("the key-share group of a real TLS 1.3 ServerHello; none in TLS 1.2; more bytes asked for when cut short")
    func keyShareGroup() {
        #expect(ServerHello.cipherSuite(in: Self.dovecotWhole) == .found(0x1302))
        #expect(ServerHello.keyShareGroup(in: Self.dovecotWhole) == .found(0x001D))
        #expect(ServerHello.cipherSuite(in: Self.dovecotTLS12) == .found(0xC02C))
        #expect(ServerHello.keyShareGroup(in: Self.dovecotTLS12) == .absent)
        // The group's second byte is at offset 92.
        for cut in 0..<93 {
            #expect(ServerHello.keyShareGroup(in: Array(Self.dovecotWhole.prefix(cut))) == .needMore, "cut at \(cut)")
        }
        #expect(ServerHello.keyShareGroup(in: Array(Self.dovecotWhole.prefix(93))) == .found(0x001D))
        #expect(ServerHello.maxObservedBytes >= Self.dovecotWhole.count)
    }

    @Test("lengths that disagree, a key_share too short for a group, or a split message give no group and never trap")
    func hostileKeyShare() {
        var longMessage = Self.dovecotWhole
        longMessage[8] = 0xFF  // the message claims more than its record holds
        #expect(ServerHello.keyShareGroup(in: longMessage) == .absent)
        var emptyShare = Self.dovecotWhole
        emptyShare[89] = 0x00; emptyShare[90] = 0x01  // key_share of length 1
        #expect(ServerHello.keyShareGroup(in: emptyShare) == .absent)
        var hugeExtension = Self.dovecotWhole
        hugeExtension[83] = 0xFF; hugeExtension[84] = 0xFF  // supported_versions claims 65,535 bytes
        #expect(ServerHello.keyShareGroup(in: hugeExtension) == .absent)
        // Every prefix and every single-byte corruption of the real message: an answer, no trap.
        for cut in 0...Self.dovecotWhole.count { _ = ServerHello.keyShareGroup(in: Array(Self.dovecotWhole.prefix(cut))) }
        for at in Self.dovecotWhole.indices {
            for value: UInt8 in [0x00, 0x01, 0x33, 0x7F, 0xFF] {
                var bytes = Self.dovecotWhole
                bytes[at] = value
                _ = ServerHello.keyShareGroup(in: bytes)
            }
        }
    }
}
