import ClientNetworking
import NIOCore
import NIOSSL

/// What the session writes. Every frame draws exactly one reply (no pipelining), which is
/// how the handler knows a reply nobody asked for when it sees one.
enum SMTPFrame: Sendable {
    /// A command line, or the message data. `secret`: it carries a credential (AUTH).
    case command(bytes: [UInt8], secret: Bool)
    /// STARTTLS, after whose 220 this handler switches the channel to TLS.
    /// `repliesRead`: replies the session has taken so far, to prove none is unread.
    case startTLS(repliesRead: Int)
}

/// Bytes → `SMTPReply`, frames → bytes; performs the STARTTLS switch synchronously on
/// the event loop the instant the 220 is parsed, like the IMAP client does, and refuses
/// what a meddler injects (`TransportGuard`): a reply with no command outstanding,
/// anything unread when STARTTLS is written, credentials before a completed handshake.
final class SMTPFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPReply
    typealias OutboundIn = SMTPFrame
    typealias OutboundOut = ByteBuffer

    private var parser = SMTPReplyParser()
    private var transport: TransportGuard
    private var awaitingStartTLSReply = false
    /// Replies owed to us: the greeting, then one per frame written.
    private var repliesOutstanding = 1
    private var repliesDelivered = 0
    private let tls: TLSHandlerFactory?
    private var failed = false

    init(plaintextAllowed: Bool, tls: TLSHandlerFactory?) {
        self.transport = TransportGuard(plaintextAllowed: plaintextAllowed)
        self.tls = tls
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        parser.append(unwrapInboundIn(data).readableBytesView)
        var switched = false
        do {
            while let reply = try parser.next() {
                guard repliesOutstanding > 0 else {
                    throw TransportGuard.Violation.unsolicitedAnswer("the SMTP server sent a reply with no command outstanding (\(reply.code))")
                }
                repliesOutstanding -= 1
                if awaitingStartTLSReply {
                    awaitingStartTLSReply = false
                    if reply.code == 220 {
                        try transport.switchToTLS(context, bufferedBytes: parser.bufferedByteCount, tls: tls)
                        switched = true
                    }
                }
                repliesDelivered += 1
                context.fireChannelRead(wrapInboundOut(reply))
            }
            if switched { context.fireChannelReadComplete() }
        } catch {
            fail(context: context, error)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        transport.observe(userEvent: event)
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let bytes: [UInt8]
        do {
            switch unwrapOutboundIn(data) {
            case .command(let b, let secret):
                if secret { try transport.checkCredentialWrite() }
                bytes = b
            case .startTLS(let repliesRead):
                try transport.checkStartTLSWrite(bufferedBytes: parser.bufferedByteCount,
                                                 unreadAnswers: repliesDelivered - repliesRead)
                awaitingStartTLSReply = true
                bytes = Array("STARTTLS\r\n".utf8)
            }
        } catch {
            promise?.fail(error)
            fail(context: context, error)
            return
        }
        repliesOutstanding += 1
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        guard !failed else { return }
        failed = true
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}
