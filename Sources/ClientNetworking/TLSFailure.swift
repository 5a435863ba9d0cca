public import NIOSSL

/// What went wrong in a TLS handshake, read once for every client (IMAP, SMTP, the doveadm
/// API): each puts it in its own words, with the setting its admin would change.
public enum TLSFailure: Sendable, Equatable {
    /// The certificate did not verify against the trusted CAs.
    case certificateNotTrusted
    /// The server did not answer with TLS (a plaintext or STARTTLS port).
    case notTLS
    /// The server offers only TLS older than 1.2.
    case versionTooOld
    /// The connection closed during the handshake.
    case closedDuringHandshake
    /// Anything else, as swift-nio-ssl describes it.
    case other(String)

    public init(_ error: NIOSSLError) {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            self = .certificateNotTrusted
        } else if text.contains("WRONG_VERSION_NUMBER") {
            self = .notTLS
        } else if text.contains("UNSUPPORTED_PROTOCOL") || text.contains("PROTOCOL_VERSION") {
            self = .versionTooOld
        } else if case .uncleanShutdown = error {
            self = .closedDuringHandshake
        } else {
            self = .other(text)
        }
    }
}
