public import NIOCore
import NIOPosix
public import NIOSSL

/// A client TLS context: TLS 1.2 minimum, full verification, against the system trust
/// store or a CA file. Building one parses the whole trust store (tens of milliseconds
/// and megabytes), so a pass builds one per server and every connection shares it.
public struct TLSClientContext: Sendable {
    public let context: NIOSSLContext
    /// The CA file it trusts; nil: the system store.
    public let caFile: String?
    /// The certificates of `caFile` (none for the system store): where server health looks
    /// for the issuers of a server's certificate.
    public let trusted: [NIOSSLCertificate]

    public init(caFile: String?) throws(ClientTLS.SetupError) {
        self.trusted = try caFile.map(ClientTLS.certificates(inFile:)) ?? []
        self.context = try ClientTLS.context(trusting: caFile == nil ? nil : trusted)
        self.caFile = caFile
    }
}

/// What the IMAP and SMTP clients share below their protocols: one TLS policy and one
/// reading of connect failures, so the two cannot drift apart.
public enum ClientTLS {
    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// TLS 1.2 minimum (RFC 8996), full certificate and host name verification, against
    /// the system trust store (nil) or `certificates` (a `ca_file`'s).
    static func context(trusting certificates: [NIOSSLCertificate]?) throws(SetupError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let certificates { tls.trustRoots = .certificates(certificates) }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw SetupError(description: "cannot set up TLS: \(error)")
        }
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

/// The one way both clients open a connection: TCP with a connect timeout, TLS first when
/// the transport is implicit TLS, then the protocol's framing handler, wrapped for async use.
/// How a client protects its connection; the same three choices for IMAP and SMTP.
public enum TransportSecurity: Sendable, Hashable {
    /// TLS from the first byte.
    case implicitTLS
    /// Plain connect, then STARTTLS before anything else; fail closed.
    case startTLS
    /// No encryption at all: explicit opt-in only.
    case insecurePlaintext
}

public enum ClientChannel {
    public static func connect<Inbound: Sendable, Outbound: Sendable>(
        host: String, port: Int, timeoutSeconds: Double, implicitTLS: TLSHandlerFactory?,
        makeFramingHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> NIOAsyncChannel<Inbound, Outbound> {
        try await ClientBootstrap(group: EventLoopAffinity.current ?? MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(timeoutSeconds * 1e9)))
            // (TCP_NODELAY is NIO's default. `.socketOption(.tcp_nodelay)` would set it at the
            // socket level, where its number is SO_DEBUG: refused to every user but root,
            // so every connection failed under the unit's own user.)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(ServerHelloObserver())
                        try channel.pipeline.syncOperations.addHandler(implicitTLS.makeHandler())
                    }
                    try channel.pipeline.syncOperations.addHandler(makeFramingHandler())
                    return try NIOAsyncChannel<Inbound, Outbound>(wrappingChannelSynchronously: channel)
                }
            }
    }
}

extension ClientChannel {
    /// Writes a frame. When the channel has died (the framing handler refused the frame,
    /// TLS failed, the server left) the write error only says "closed"; the reason waits
    /// on the inbound side, so that is the error thrown.
    public static func write<Outbound: Sendable, Inbound: Sendable>(
        _ frame: Outbound, to outbound: NIOAsyncChannelOutboundWriter<Outbound>,
        reasonFrom inbound: inout NIOAsyncChannelInboundStream<Inbound>.AsyncIterator
    ) async throws {
        do {
            try await outbound.write(frame)
        } catch {
            while try await inbound.next() != nil {}
            throw error
        }
    }
}

/// A failed TCP connect, read for an admin: name resolution or the connection itself.
public enum ConnectFailure: Error, Sendable {
    case dns(reason: String)
    case connect(reason: String)

    public init(_ error: any Error, timeoutSeconds: Double) {
        if let e = error as? NIOConnectionError {
            if e.connectionErrors.isEmpty, let dns = e.dnsAError ?? e.dnsAAAAError {
                self = .dns(reason: "\(dns)")
                return
            }
            let reasons = e.connectionErrors.map { "\($0.target): \(Self.describeIO($0.error))" }
            self = .connect(reason: reasons.isEmpty ? "\(e)" : reasons.joined(separator: "; "))
        } else if let e = error as? ChannelError, case .connectTimeout = e {
            self = .connect(reason: "no TCP connection within \(formatSeconds(timeoutSeconds))")
        } else if error is SocketAddressError {
            self = .dns(reason: "\(error)")
        } else {
            self = .connect(reason: Self.describeIO(error))
        }
    }

    static func describeIO(_ error: any Error) -> String {
        if let e = error as? IOError {
            switch e.errnoCode {
            case 111: return "connection refused"
            case 113: return "no route to host"
            case 101: return "network unreachable"
            default: return e.description
            }
        }
        return "\(error)"
    }
}

/// "30s", "1.5s".
public func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s))s" : "\(s)s"
}

extension ClientChannel {
    /// One session's life on a connected channel, the same for both clients: `open`
    /// (greeting, STARTTLS, hello), `body`, then `close` (LOGOUT / QUIT, never throwing)
    /// whether or not anything failed, and every error as the protocol's own (`mapError`).
    public static func withSession<Inbound: Sendable, Outbound: Sendable, Session, T: Sendable>(
        on asyncChannel: NIOAsyncChannel<Inbound, Outbound>,
        makeSession: (NIOAsyncChannelInboundStream<Inbound>, NIOAsyncChannelOutboundWriter<Outbound>) -> Session,
        open: (Session) async throws -> Void,
        close: (Session) async -> Void,
        mapError: (Session, any Error) -> any Error,
        _ body: (Session) async throws -> T
    ) async throws -> T {
        try await asyncChannel.executeThenClose { inbound, outbound in
            let session = makeSession(inbound, outbound)
            do {
                try await open(session)
                let result = try await body(session)
                await close(session)
                return result
            } catch {
                await close(session)
                throw mapError(session, error)
            }
        }
    }
}
