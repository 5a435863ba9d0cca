public import NIOCore
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

/// TLS 1.3 key-share prediction, per server and pass.
///
/// The standard offer carries two key shares, X25519MLKEM768 and X25519 (BoringSSL sends
/// one post-quantum and one classical share whatever the order): generating the
/// post-quantum one was 4 % of a pass's client CPU, wasted on every connection to a server
/// that takes X25519 (OpenSSL before 3.5 knows no ML-KEM). Once a handshake NIOSSL
/// verified shows that the server, offered both, chose a classical group, later
/// connections offer that group first and leave out the post-quantum one it declined: one
/// share, the one it takes, and the same outcome as the full offer. The group is covered
/// by the handshake transcript, so a meddler who altered it would have failed the
/// handshake, and nothing is learned from a failed one. One connection in
/// `fullOfferEvery` still makes the standard offer, so a server that starts accepting the
/// post-quantum group (or a pool of unlike servers behind one name) is seen; a server
/// whose choice keeps changing gets the standard offer for the rest of the pass.
final class KeySharePrediction: Sendable {
    /// swift-nio-ssl's standard offer: X25519MLKEM768, X25519, P-256, P-384.
    static let standardGroups: [NIOTLSCurve] = [.x25519_MLKEM768, .x25519, .secp256r1, .secp384r1]
    static let postQuantumGroups: Set<NIOTLSCurve> = [.x25519_MLKEM768]
    /// Changes of the learned group before prediction stops for the pass.
    static let maxChanges = 2
    static let fullOfferEvery = 64

    private struct State {
        var group: UInt16?
        var context: NIOSSLContext?
        var changes = 0
        var handedOut = 0
    }

    private let trusted: [NIOSSLCertificate]?
    private let state = Mutex(State())

    init(trusting trusted: [NIOSSLCertificate]?) {
        self.trusted = trusted
    }

    /// The predicting context for the next connection; nil: the standard offer.
    var context: NIOSSLContext? {
        state.withLock { state in
            guard let context = state.context else { return nil }
            state.handedOut &+= 1
            return state.handedOut % Self.fullOfferEvery == 0 ? nil : context
        }
    }

    var predictedGroup: UInt16? { state.withLock { $0.context == nil ? nil : $0.group } }

    func learn(_ group: UInt16) {
        let chosen = NIOTLSCurve(rawValue: group)
        let build = state.withLock { state -> Bool in
            guard state.group != group, state.changes <= Self.maxChanges else { return false }
            if state.group != nil { state.changes += 1 }
            state.group = group
            state.context = nil
            return state.changes <= Self.maxChanges && !Self.postQuantumGroups.contains(chosen)
        }
        guard build else { return }
        let offer = [chosen] + Self.standardGroups.filter { $0 != chosen && !Self.postQuantumGroups.contains($0) }
        // Built outside the lock (the system store takes milliseconds); kept only if no
        // other handshake changed the answer meanwhile. A failure leaves the standard offer.
        guard let context = try? ClientTLS.context(trusting: trusted, groups: offer) else { return }
        state.withLock { state in
            if state.group == group, state.changes <= Self.maxChanges { state.context = context }
        }
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
        host: String, port: Int, timeoutSeconds: Double, implicitTLS: TLSHandlerFactory?, addresses: AddressCache? = nil,
        makeFramingHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> NIOAsyncChannel<Inbound, Outbound> {
        let loop = EventLoopAffinity.current ?? MultiThreadedEventLoopGroup.singleton.next()
        var bootstrap = ClientBootstrap(group: loop)
        // The pass's shared lookup; without one, NIO's getaddrinfo per connection.
        if let addresses { bootstrap = bootstrap.resolver(addresses.resolver(on: loop)) }
        return try await bootstrap
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
