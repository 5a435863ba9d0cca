import IMAPCore
import NIOCore
import NIOSSL

/// What the connection writes: command bytes, or the STARTTLS command, after whose tagged
/// OK this handler switches the channel to TLS.
enum ClientFrame: Sendable {
    case bytes([UInt8])
    case startTLS(tag: String, bytes: [UInt8])
}

/// Errors raised inside the pipeline.
enum FrameError: Error {
    /// Bytes arrived after the STARTTLS OK and before the handshake: a man in the middle
    /// injecting plaintext responses (CVE-2011-0411 class). Fail closed.
    case dataAfterStartTLS
}

/// Turns bytes into `Response`s with `ResponseParser`, and commands into bytes.
///
/// It also performs the STARTTLS switch, synchronously on the event loop at the exact
/// moment the tagged OK is parsed: the TLS handler goes in before any further byte is
/// read, and any byte already buffered past the OK is refused. Doing this in async code
/// instead would leave a window where plaintext read ahead could pass as post-TLS data.
final class IMAPFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Response
    typealias OutboundIn = ClientFrame
    typealias OutboundOut = ByteBuffer

    private var parser: ResponseParser
    private var pendingStartTLSTag: String?
    private let makeTLSHandler: () throws -> NIOSSLClientHandler
    private var failed = false

    init(limits: ResponseParser.Limits, makeTLSHandler: @escaping () throws -> NIOSSLClientHandler) {
        self.parser = ResponseParser(limits: limits)
        self.makeTLSHandler = makeTLSHandler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        parser.append(buffer.readableBytesView)
        var switchedToTLS = false
        do {
            while let response = try parser.next() {
                if case .tagged(let tag, let status) = response, tag == pendingStartTLSTag {
                    pendingStartTLSTag = nil
                    if status.kind == .ok {
                        guard parser.bufferedByteCount == 0 else { throw FrameError.dataAfterStartTLS }
                        try context.pipeline.syncOperations.addHandler(makeTLSHandler(), position: .first)
                        switchedToTLS = true
                    }
                }
                context.fireChannelRead(wrapInboundOut(response))
            }
            // The read-complete for these bytes now starts at the new TLS handler, which
            // swallows it (it read no TLS data). Deliver it ourselves, or the OK would sit
            // in the async channel's buffer until the next read.
            if switchedToTLS { context.fireChannelReadComplete() }
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
        case .startTLS(let tag, let b):
            pendingStartTLSTag = tag
            bytes = b
        }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
