public import NIOCore
import NIOSSL

/// What a completed TLS handshake says about the server, read for server health: the
/// negotiated version and cipher, and the certificate the server presented.
public struct TLSFacts: Sendable, Hashable {
    /// "TLSv1.3".
    public var version: String
    /// IANA name ("TLS_AES_256_GCM_SHA384"), or the code point ("0xC0FF") for one this
    /// table does not name; nil when the ServerHello could not be read.
    public var cipher: String?
    /// The TLS 1.3 key-share group's code point (0x001D: X25519); nil for TLS 1.2.
    public var keyShareGroup: UInt16?
    /// The leaf certificate's end of validity (seconds since 1970).
    public var notAfter: Double
    /// The earliest end of validity among the leaf and the trusted certificates that
    /// issued it, as far as this client can see them (see `earliestExpiry`).
    public var chainNotAfter: Double
    public var subject: String
    public var issuer: String
    /// DNS names and IP addresses the certificate is valid for.
    public var subjectAlternativeNames: [String]

    /// Names kept from a certificate (a server chooses how many it lists).
    public static let maxNames = 50

    /// Reads the facts from the channel's TLS handlers, on its event loop; nil without a
    /// TLS handler or before the handshake completed. `trusted`: the CA certificates the
    /// context trusts explicitly (`ca_file`), searched for the leaf's issuers.
    public static func read(from channel: any Channel, context: TLSClientContext) async -> TLSFacts? {
        let trusted = context.trusted
        return (try? await channel.eventLoop.submit { () -> TLSFacts? in
            let pipeline = channel.pipeline.syncOperations
            guard let tls = try? pipeline.handler(type: NIOSSLHandler.self), let version = tls.tlsVersion,
                  let leaf = tls.peerCertificate else { return nil }
            let observer = try? pipeline.handler(type: ServerHelloObserver.self)
            return TLSFacts(version: version.name, cipher: observer?.cipherSuite.map(CipherSuiteName.name(of:)),
                            keyShareGroup: observer?.keyShareGroup,
                            notAfter: Double(leaf.notValidAfter), chainNotAfter: earliestExpiry(leaf: leaf, trusted: trusted),
                            subject: distinguishedName(leaf.subjectName), issuer: distinguishedName(leaf.issuerName),
                            subjectAlternativeNames: Array(leaf._subjectAlternativeNames().lazy.compactMap(\.text).prefix(maxNames)))
        }.get()) ?? nil
    }

    /// The leaf's expiry, or an issuer's among `trusted` when earlier, following issuer
    /// names up to eight links (a self-signed certificate ends it). Intermediates the
    /// server sends in the handshake are not visible here: swift-nio-ssl exposes only the
    /// leaf of a verified chain (and TLS 1.3 encrypts the rest).
    static func earliestExpiry(leaf: NIOSSLCertificate, trusted: [NIOSSLCertificate]) -> Double {
        var earliest = Double(leaf.notValidAfter)
        var current = leaf
        for _ in 0..<8 {
            let issuer = current.issuerName
            guard issuer != current.subjectName, let next = trusted.first(where: { $0.subjectName == issuer }) else { break }
            earliest = min(earliest, Double(next.notValidAfter))
            current = next
        }
        return earliest
    }

    /// "CN=imap.example.com, O=Example": the attributes in the certificate's order.
    static func distinguishedName(_ name: [SSLCertificateName]) -> String {
        name.map { "\(shortName($0.type))=\($0.value)" }.joined(separator: ", ")
    }

    static func shortName(_ type: SSLCertificateNameType) -> String {
        switch type {
        case .commonName: "CN"
        case .organization: "O"
        case .organizationalUnit: "OU"
        case .country: "C"
        case .state: "ST"
        case .city: "L"
        case .emailAddress: "emailAddress"
        case .userId: "UID"
        default: "attribute"
        }
    }
}

extension TLSVersion {
    var name: String {
        switch self {
        case .tlsv1: "TLSv1"
        case .tlsv11: "TLSv1.1"
        case .tlsv12: "TLSv1.2"
        case .tlsv13: "TLSv1.3"
        }
    }
}

extension _SubjectAlternativeName {
    /// A DNS name or an IP address as text; nil for other kinds.
    var text: String? {
        switch nameType {
        case .dnsName: String(decoding: contents, as: UTF8.self)
        case .ipAddress:
            switch contents.count {
            case 4: contents.map(String.init).joined(separator: ".")
            case 16: stride(from: 0, to: 16, by: 2).map { String(UInt16(contents[$0]) << 8 | UInt16(contents[$0 + 1]), radix: 16) }
                .joined(separator: ":")
            default: nil
            }
        default: nil
        }
    }
}
