import NIOCore
import NIOPosix
public import NIOSSL
import Synchronization

/// A client TLS context: TLS 1.2 minimum, full verification, against the system trust
/// store or a CA file. Building one parses the whole trust store (tens of milliseconds
/// and megabytes), so a pass builds one per server and every connection shares it.
public struct TLSClientContext: Sendable {
    /// The context for the next connection: the one predicting the server's key-share
    /// group once a verified handshake has shown it, else the standard one.
    public var context: NIOSSLContext { keyShares.context ?? standard }
    /// The CA file it trusts; nil: the system store.
    public let caFile: String?
    /// The certificates of `caFile` (none for the system store): where server health looks
    /// for the issuers of a server's certificate.
    public let trusted: [NIOSSLCertificate]
    private let standard: NIOSSLContext
    private let keyShares: KeySharePrediction

    public init(caFile: String?) throws(ClientTLS.SetupError) {
        self.trusted = try caFile.map(ClientTLS.certificates(inFile:)) ?? []
        let roots = caFile == nil ? nil : trusted
        self.standard = try ClientTLS.context(trusting: roots)
        self.keyShares = KeySharePrediction(trusting: roots)
        self.caFile = caFile
    }

    /// The key-share group a completed, verified handshake with this server used.
    public func learnKeyShare(group: UInt16) {
        keyShares.learn(group)
    }

    /// The group later connections send their one key share for; nil: the standard offer.
    public var predictedKeyShareGroup: UInt16? { keyShares.predictedGroup }
}
