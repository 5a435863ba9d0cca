import NIOCore
import NIOPosix
public import NIOSSL
import Synchronization

/// What the IMAP and SMTP clients share below their protocols: one TLS policy and one
/// reading of connect failures, so the two cannot drift apart.
public enum ClientTLS {
    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// TLS 1.2 minimum (RFC 8996), full certificate and host name verification, against
    /// the system trust store (nil) or `certificates` (a `ca_file`'s).
    /// `groups`: the key-exchange groups in order of preference; nil: swift-nio-ssl's.
    static func context(trusting certificates: [NIOSSLCertificate]?, groups: [NIOTLSCurve]? = nil) throws(SetupError) -> NIOSSLContext {
        var tls = configuration(trusting: certificates)
        tls.curves = groups
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw SetupError(description: "cannot set up TLS: \(error)")
        }
    }

    /// The same policy for a client that builds its own context (the doveadm HTTP API's,
    /// through AsyncHTTPClient): TLS 1.2 minimum, full verification, `caFile` or the system store.
    /// The policy with the system's trust store (webhooks).
    public static var defaultConfiguration: TLSConfiguration { configuration(trusting: nil) }

    public static func configuration(caFile: String?) throws(SetupError) -> TLSConfiguration {
        try configuration(trusting: caFile.map(certificates(inFile:)))
    }

    static func configuration(trusting certificates: [NIOSSLCertificate]?) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let certificates { tls.trustRoots = .certificates(certificates) }
        return tls
    }

    static func certificates(inFile caFile: String) throws(SetupError) -> [NIOSSLCertificate] {
        do {
            return try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw SetupError(description: "cannot read CA file \(caFile): \(error)")
        }
    }

    /// The SNI name to send: the host, unless it is an IP address (RFC 6066 §3).
    public static func serverHostname(_ host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }
}
