import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A scripted IMAP server on loopback whose purpose is to misbehave (fault injection):
/// it answers each command line with canned responses and records every line it got, so
/// tests can prove what a client did or did not send. Never a stand-in for a real server.
final class ScriptedIMAPServer: Sendable {
    typealias Responder = @Sendable (_ tag: String, _ verb: String, _ line: String) -> String?

    let port: Int
    private let channel: any Channel
    private let received: NIOLockedValueBox<[String]>
    private let receivedRaw: NIOLockedValueBox<[UInt8]>

    /// - Parameters:
    ///   - greeting: sent on connect (nil: a silent server).
    ///   - respond: the bytes to send back for one command line (nil: say nothing).
    init(greeting: String?, respond: @escaping Responder) async throws {
        let received = NIOLockedValueBox<[String]>([])
        let receivedRaw = NIOLockedValueBox<[UInt8]>([])
        self.received = received
        self.receivedRaw = receivedRaw
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        ScriptHandler(greeting: greeting, respond: respond, received: received, receivedRaw: receivedRaw))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    var receivedLines: [String] { received.withLockedValue { $0 } }
    /// Every byte any client sent, as it arrived (TLS records included).
    var receivedBytes: [UInt8] { receivedRaw.withLockedValue { $0 } }

    func close() async {
        try? await channel.close()
    }

    /// Replace `$TAG` in canned responses with the command's tag.
    static func reply(_ text: String, tag: String) -> String {
        text.replacingAll("$TAG", with: tag)
    }
}

private final class ScriptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let greeting: String?
    let respond: ScriptedIMAPServer.Responder
    let received: NIOLockedValueBox<[String]>
    let receivedRaw: NIOLockedValueBox<[UInt8]>
    var pending: [UInt8] = []

    init(greeting: String?, respond: @escaping ScriptedIMAPServer.Responder, received: NIOLockedValueBox<[String]>,
         receivedRaw: NIOLockedValueBox<[UInt8]>) {
        self.greeting = greeting
        self.respond = respond
        self.received = received
        self.receivedRaw = receivedRaw
    }

    func channelActive(context: ChannelHandlerContext) {
        if let greeting { send(greeting, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        receivedRaw.withLockedValue { $0 += bytes }
        pending += bytes
        while let lf = pending.firstIndex(of: 0x0A) {
            var line = pending[..<lf]
            if line.last == 0x0D { line = line.dropLast() }
            pending.removeFirst(lf + 1)
            let text = String(decoding: line, as: UTF8.self)
            received.withLockedValue { $0.append(text) }
            let words = text.split(separator: " ", maxSplits: 2).map(String.init)
            let tag = words.first ?? "", verb = words.count > 1 ? words[1].uppercased() : ""
            if let reply = respond(tag, verb, text) {
                send(ScriptedIMAPServer.reply(reply, tag: tag), context: context)
            }
        }
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
