import ClientNetworking
import IMAPCore
import NIOCore
import NIOSSL

/// What the connection writes.
enum ClientFrame: Sendable {
    /// The start of one or more tagged commands (several when pipelined). `secret`: the
    /// bytes carry a credential (LOGIN, AUTHENTICATE with an initial response).
    case command(tags: [String], bytes: [UInt8], secret: Bool)
    /// More bytes of a command already started: a literal's part after `+`, or a SASL
    /// response.
    case continuation(bytes: [UInt8], secret: Bool)
    /// STARTTLS, after whose tagged OK this handler switches the channel to TLS.
    /// `responsesRead`: how many responses the connection has taken so far, to prove none
    /// is waiting unread.
    case startTLS(tag: String, bytes: [UInt8], responsesRead: Int)
}

/// Turns bytes into `Response`s with `ResponseParser`, and commands into bytes; guards the
/// channel's security (`TransportGuard`).
///
/// It performs the STARTTLS switch synchronously on the event loop at the exact moment
/// the tagged OK is parsed: the TLS handler goes in before any further byte is read, and
/// any byte already buffered past the OK is refused. Doing this in async code instead
/// would leave a window where plaintext read ahead could pass as post-TLS data.
///
/// It also refuses what a meddler injects: a tagged answer for a tag the client has not
/// sent, anything unread when STARTTLS is written, and credential bytes on a channel whose
/// TLS handshake has not completed.
final class IMAPFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Response
    typealias OutboundIn = ClientFrame
    typealias OutboundOut = ByteBuffer

    private var parser: ResponseParser
    private var transport: TransportGuard
    private var pendingStartTLSTag: String?
    /// Tags sent and not yet answered.
    private var outstandingTags: Set<String> = []
    /// Responses handed to the connection so far.
    private var responsesDelivered = 0
    private let tls: TLSHandlerFactory?
    private var failed = false

    init(limits: ResponseParser.Limits, plaintextAllowed: Bool, tls: TLSHandlerFactory?) {
        self.parser = ResponseParser(limits: limits)
        self.transport = TransportGuard(plaintextAllowed: plaintextAllowed)
        self.tls = tls
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        parser.append(buffer.readableBytesView)
        var switchedToTLS = false
        do {
            while let response = try parser.next() {
                if case .tagged(let tag, let status) = response {
                    guard outstandingTags.remove(tag) != nil else {
                        throw TransportGuard.Violation.unsolicitedAnswer("the server answered tag \(tag), which was never sent")
                    }
                    if tag == pendingStartTLSTag {
                        pendingStartTLSTag = nil
                        if status.kind == .ok {
                            try transport.switchToTLS(context, bufferedBytes: parser.bufferedByteCount, tls: tls)
                            switchedToTLS = true
                        }
                    }
                }
                responsesDelivered += 1
                context.fireChannelRead(wrapInboundOut(response))
            }
            // The read-complete for these bytes now starts at the new TLS handler, which
            // swallows it (it read no TLS data). Deliver it ourselves, or the OK would sit
            // in the async channel's buffer until the next read.
            if switchedToTLS { context.fireChannelReadComplete() }
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
            case .command(let tags, let b, let secret):
                if secret { try transport.checkCredentialWrite() }
                outstandingTags.formUnion(tags)
                bytes = b
            case .continuation(let b, let secret):
                if secret { try transport.checkCredentialWrite() }
                bytes = b
            case .startTLS(let tag, let b, let responsesRead):
                try transport.checkStartTLSWrite(bufferedBytes: parser.bufferedByteCount,
                                                 unreadAnswers: responsesDelivered - responsesRead)
                pendingStartTLSTag = tag
                outstandingTags.insert(tag)
                bytes = b
            }
        } catch {
            promise?.fail(error)
            fail(context: context, error)
            return
        }
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
