public import NIOCore
public import NIOSSL
import NIOTLS

/// The security state of one client connection, kept by its framing handler on the event
/// loop: whether TLS is up, and whether the bytes around a STARTTLS switch can be trusted.
///
/// It exists so that "credentials only after a completed TLS handshake" is checked where
/// the credential bytes are written, from what NIOSSL reported, and not inferred from the
/// protocol's state (which a meddler can fake: the STARTTLS response-injection class of
/// Poddebniak et al., "Why TLS is better without STARTTLS", USENIX Security 2021).
public struct TransportGuard: Sendable {
    public enum Violation: Error, Sendable, Equatable, CustomStringConvertible {
        /// A credential was about to be written on a channel without a completed TLS
        /// handshake (and no plaintext opt-in). Nothing was written.
        case credentialsWithoutTLS
        /// Data arrived that no command asked for before STARTTLS was sent: a meddler
        /// pre-sending answers (response injection).
        case injectedBeforeStartTLS
        /// Bytes arrived after the STARTTLS answer and before the TLS handshake.
        case dataAfterStartTLS
        /// A tagged IMAP answer for a tag the client never sent, or an SMTP reply with no
        /// command outstanding (response injection).
        case unsolicitedAnswer(String)

        public var description: String {
            switch self {
            case .credentialsWithoutTLS:
                "refusing to send credentials: the TLS handshake has not completed on this connection (no credential was sent)"
            case .injectedBeforeStartTLS:
                "the server sent data nobody asked for before STARTTLS (possible response injection); connection dropped before TLS"
            case .dataAfterStartTLS:
                "server sent data after STARTTLS before the TLS handshake (possible injection); connection dropped"
            case .unsolicitedAnswer(let what):
                "\(what) (possible response injection); connection dropped"
            }
        }
    }

    /// Credentials may go over a channel without TLS (explicit `--insecure-plaintext` /
    /// `tls: none` opt-in).
    public let plaintextAllowed: Bool
    /// NIOSSL reported a completed handshake on this channel.
    public private(set) var tlsEstablished = false

    public init(plaintextAllowed: Bool) {
        self.plaintextAllowed = plaintextAllowed
    }

    /// Feed every inbound user event: NIOSSL announces the completed handshake this way.
    public mutating func observe(userEvent: Any) {
        if let event = userEvent as? TLSUserEvent, case .handshakeCompleted = event { tlsEstablished = true }
    }

    /// Call before writing bytes that carry a credential.
    public func checkCredentialWrite() throws(Violation) {
        guard tlsEstablished || plaintextAllowed else { throw .credentialsWithoutTLS }
    }

    /// Call when STARTTLS is about to be written. A well-behaved server says nothing
    /// between its last answer and our STARTTLS, so anything buffered in the parser or
    /// handed up but not yet read by the client is injected.
    public func checkStartTLSWrite(bufferedBytes: Int, unreadAnswers: Int) throws(Violation) {
        guard bufferedBytes == 0, unreadAnswers == 0 else { throw .injectedBeforeStartTLS }
    }

    /// Call when the positive STARTTLS answer has been parsed, before adding the TLS
    /// handler: nothing may follow it in plaintext.
    public func checkStartTLSAccepted(bufferedBytes: Int) throws(Violation) {
        guard bufferedBytes == 0 else { throw .dataAfterStartTLS }
    }

    /// The STARTTLS switch, the same for IMAP and SMTP: on the server's positive answer,
    /// with nothing buffered after it, the TLS handler goes first in the pipeline. Called
    /// on the event loop from the framing handler's read, so no byte is read in between.
    public func switchToTLS(_ context: ChannelHandlerContext, bufferedBytes: Int, tls: TLSHandlerFactory?) throws {
        try checkStartTLSAccepted(bufferedBytes: bufferedBytes)
        guard let tls else { throw Violation.dataAfterStartTLS }
        try context.pipeline.syncOperations.addHandler(tls.makeHandler(), position: .first)
        try context.pipeline.syncOperations.addHandler(ServerHelloObserver(), position: .first)
    }
}

/// Makes the TLS handler for one connection from a context shared by the pass.
public struct TLSHandlerFactory: Sendable {
    public let context: TLSClientContext
    public let serverHostname: String?

    public init(context: TLSClientContext, host: String) {
        self.context = context
        self.serverHostname = ClientTLS.serverHostname(host)
    }

    /// None for a plaintext connection (no trust store is parsed for `tls: none`);
    /// otherwise `init(shared:caFile:host:)`.
    public static func unlessPlaintext(_ plaintext: Bool, shared: TLSClientContext?, caFile: String?,
                                       host: String) throws(ClientTLS.SetupError) -> TLSHandlerFactory? {
        plaintext ? nil : try TLSHandlerFactory(shared: shared, caFile: caFile, host: host)
    }

    /// With the pass's shared context, or one built from `caFile` for this connection.
    public init(shared: TLSClientContext?, caFile: String?, host: String) throws(ClientTLS.SetupError) {
        if let shared {
            self.init(context: shared, host: host)
        } else {
            self.init(context: try TLSClientContext(caFile: caFile), host: host)
        }
    }

    public func makeHandler() throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context.context, serverHostname: serverHostname)
    }
}
