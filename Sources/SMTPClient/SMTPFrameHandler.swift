import NIOCore
import NIOSSL

/// What the session writes: command bytes, or STARTTLS, after whose 220 reply this
/// handler switches the channel to TLS.
enum SMTPFrame: Sendable {
    case bytes([UInt8])
    case startTLS
}

enum SMTPFrameError: Error {
    /// Bytes arrived after the 220 to STARTTLS and before the handshake: injected
    /// plaintext (CVE-2011-0411 class, "STARTTLS command injection"). Fail closed.
    case dataAfterStartTLS
}

/// Bytes → `SMTPReply`, frames → bytes; performs the STARTTLS switch synchronously on
/// the event loop the instant the 220 is parsed, like the IMAP client does.
final class SMTPFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPReply
    typealias OutboundIn = SMTPFrame
    typealias OutboundOut = ByteBuffer

    private var parser = SMTPReplyParser()
    private var awaitingStartTLSReply = false
    private let makeTLSHandler: () throws -> NIOSSLClientHandler
    private var failed = false

    init(makeTLSHandler: @escaping () throws -> NIOSSLClientHandler) {
        self.makeTLSHandler = makeTLSHandler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        parser.append(unwrapInboundIn(data).readableBytesView)
        var switched = false
        do {
            while let reply = try parser.next() {
                if awaitingStartTLSReply {
                    awaitingStartTLSReply = false
                    if reply.code == 220 {
                        guard parser.bufferedByteCount == 0 else { throw SMTPFrameError.dataAfterStartTLS }
                        try context.pipeline.syncOperations.addHandler(makeTLSHandler(), position: .first)
                        switched = true
                    }
                }
                context.fireChannelRead(wrapInboundOut(reply))
            }
            if switched { context.fireChannelReadComplete() }
        } catch {
            failed = true
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes: [UInt8]
        switch unwrapOutboundIn(data) {
        case .bytes(let b):
            bytes = b
        case .startTLS:
            awaitingStartTLSReply = true
            bytes = Array("STARTTLS\r\n".utf8)
        }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
