import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A scripted IMAP server on loopback whose purpose is to misbehave (fault injection):
/// it answers each command line with canned responses and records every line it got, so
/// tests can prove what a client did or did not send. Never a stand-in for a real server.
public final class ScriptedIMAPServer: Sendable {
    public typealias Responder = @Sendable (_ tag: String, _ verb: String, _ line: String) -> String?

    public let port: Int
    private let channel: any Channel
    private let received: NIOLockedValueBox<[String]>
    private let receivedRaw: NIOLockedValueBox<[UInt8]>
    private let connections = OpenConnections()

    /// - Parameters:
    ///   - greeting: sent on connect (nil: a silent server).
    ///   - respond: the bytes to send back for one command line (nil: say nothing).
    ///   - tls: certificate and key: after answering STARTTLS the server starts TLS (for
    ///     tests of what happens on either side of the switch).
    public init(greeting: String?, tls: (certificate: String, key: String)? = nil, respond: @escaping Responder) async throws {
        let tlsContext = try tls.map(serverTLSContext)
        let received = NIOLockedValueBox<[String]>([])
        let receivedRaw = NIOLockedValueBox<[UInt8]>([])
        self.received = received
        self.receivedRaw = receivedRaw
        (channel, port) = try await loopbackListener(connections) { pipeline in
            let recorder = WireRecorder(receivedRaw: receivedRaw)
            try pipeline.addHandler(recorder)
            try pipeline.addHandler(ScriptHandler(recorder: recorder, greeting: greeting, respond: respond, received: received, tls: tlsContext))
        }
    }

    /// Every line any client sent, once its connections have closed (see `OpenConnections`).
    public var receivedLines: [String] {
        get async { await connections.allClosed(); return received.withLockedValue { $0 } }
    }
    /// Every byte any client sent, as it crossed the wire (TLS records still encrypted),
    /// once its connections have closed.
    public var receivedBytes: [UInt8] {
        get async { await connections.allClosed(); return receivedRaw.withLockedValue { $0 } }
    }

    public func close() async {
        try? await channel.close()
    }

    /// Replace `$TAG` in canned responses with the command's tag.
    public static func reply(_ text: String, tag: String) -> String {
        text.replacingAll("$TAG", with: tag)
    }
}

private final class ScriptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let greeting: String?
    let respond: ScriptedIMAPServer.Responder
    let received: NIOLockedValueBox<[String]>
    let recorder: WireRecorder
    let tls: NIOSSLContext?
    var pending: [UInt8] = []

    init(recorder: WireRecorder, greeting: String?, respond: @escaping ScriptedIMAPServer.Responder,
         received: NIOLockedValueBox<[String]>, tls: NIOSSLContext?) {
        self.recorder = recorder
        self.greeting = greeting
        self.respond = respond
        self.received = received
        self.tls = tls
    }

    func channelActive(context: ChannelHandlerContext) {
        if let greeting { send(greeting, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += unwrapInboundIn(data).readableBytesView
        while let lf = pending.firstIndex(of: 0x0A) {
            var line = pending[..<lf]
            if line.last == 0x0D { line = line.dropLast() }
            pending.removeFirst(lf + 1)
            let text = String(decoding: line, as: UTF8.self)
            received.withLockedValue { $0.append(text) }
            let words = text.split(separator: " ", maxSplits: 2).map(String.init)
            let tag = words.first ?? "", verb = words.count > 1 ? words[1].uppercased() : ""
            if let reply = respond(tag, verb, text) {
                let reply = ScriptedIMAPServer.reply(reply, tag: tag)
                if reply.hasPrefix("$EVERY ") {
                    // "$EVERY <ms> <text>": a server that keeps talking and never finishes.
                    let parts = reply.dropFirst(7).split(separator: " ", maxSplits: 1)
                    let interval = TimeAmount.milliseconds(Int64(parts[0]) ?? 100)
                    let line = parts.count > 1 ? String(parts[1]) : "* OK still working\r\n"
                    let channel = context.channel
                    channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { task in
                        guard channel.isActive else { task.cancel(); return }
                        channel.writeAndFlush(ByteBuffer(string: line), promise: nil)
                    }
                } else if reply.hasPrefix("$AFTER ") {
                    // "$AFTER <ms> <text>": a slow server, answering later.
                    let parts = reply.dropFirst(7).split(separator: " ", maxSplits: 1)
                    let text = parts.count > 1 ? String(parts[1]) : ""
                    let channel = context.channel
                    channel.eventLoop.scheduleTask(in: .milliseconds(Int64(parts[0]) ?? 100)) {
                        if channel.isActive { channel.writeAndFlush(ByteBuffer(string: text), promise: nil) }
                    }
                } else {
                    send(reply, context: context)
                    if verb == "STARTTLS", let tls, reply.contains(" OK") {
                        try? context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .after(recorder))
                    }
                }
            }
        }
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}

/// A listener on 127.0.0.1 at a free port, each accepted connection tracked in
/// `connections` and its pipeline set up by `setUp`, for the scripted servers.
func loopbackListener(_ connections: OpenConnections,
                      _ setUp: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void) async throws
    -> (channel: any Channel, port: Int) {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { child in
            connections.track(child)
            return child.eventLoop.makeCompletedFuture { try setUp(child.pipeline.syncOperations) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    return (channel, channel.localAddress!.port!)
}

/// The connections a scripted server accepted and has not yet seen closed. A client call
/// returns when the client is done, which can be before the server's event loop has read
/// its last bytes (an unawaited LOGOUT, say); what a server received is read once every
/// connection has closed, so a test that asserts what a client did *not* send cannot pass
/// for having looked too early. (A connection is counted from the server's accept, which
/// precedes any answer the client waited for.)
final class OpenConnections: Sendable {
    private let open = NIOLockedValueBox(0)

    func track(_ channel: any Channel) {
        open.withLockedValue { $0 += 1 }
        channel.closeFuture.whenComplete { [open] _ in open.withLockedValue { $0 -= 1 } }
    }

    /// Returns once no connection is open, or after `seconds` (a test that reads while it
    /// holds a connection open gets what has arrived so far).
    func allClosed(within seconds: Int64 = 5) async {
        let end = ContinuousClock.now + .seconds(seconds)
        while open.withLockedValue({ $0 }) > 0, ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A server TLS context from PEM certificate and key files, for the scripted servers.
func serverTLSContext(_ files: (certificate: String, key: String)) throws -> NIOSSLContext {
    try NIOSSLContext(configuration: .makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem))))
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// First in the pipeline: records the bytes exactly as they arrive from the network.
final class WireRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let receivedRaw: NIOLockedValueBox<[UInt8]>

    init(receivedRaw: NIOLockedValueBox<[UInt8]>) {
        self.receivedRaw = receivedRaw
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        receivedRaw.withLockedValue { $0 += bytes }
        context.fireChannelRead(data)
    }
}
