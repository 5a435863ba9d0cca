public import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// How a client protects its connection; the same three choices for IMAP and SMTP.
public enum TransportSecurity: Sendable, Hashable {
    /// TLS from the first byte.
    case implicitTLS
    /// Plain connect, then STARTTLS before anything else; fail closed.
    case startTLS
    /// No encryption at all: explicit opt-in only.
    case insecurePlaintext
}

/// The one way both clients open a connection: TCP with a connect timeout, TLS first when
/// the transport is implicit TLS, then the protocol's framing handler, wrapped for async use.
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
