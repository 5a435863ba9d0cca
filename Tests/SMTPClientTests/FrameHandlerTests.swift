import ClientNetworking
import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS
@testable import SMTPClient
import Testing

/// `SMTPFrameHandler` on an `EmbeddedChannel`: one reply per command, the STARTTLS
/// switch and the transport guard, without a socket.
@Suite("SMTP frame handler")
struct SMTPFrameHandlerTests {
    static let tls = try! TLSHandlerFactory(context: TLSClientContext(caFile: nil), host: "smtp.example.test")

    func channel(plaintextAllowed: Bool = false) -> EmbeddedChannel {
        EmbeddedChannel(handler: SMTPFrameHandler(plaintextAllowed: plaintextAllowed, tls: Self.tls))
    }

    func write(_ channel: EmbeddedChannel, _ frame: SMTPFrame) -> (any Error)? {
        let future = channel.writeAndFlush(frame)
        channel.embeddedEventLoop.run()
        do {
            try future.wait()
            return nil
        } catch {
            return error
        }
    }

    @Test("the greeting, then one reply per command; a reply nobody asked for closes the channel")
    func oneReplyPerCommand() throws {
        let channel = channel()
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n"))
        #expect(try channel.readInbound(as: SMTPReply.self)?.code == 220)
        #expect(throws: TransportGuard.Violation.unsolicitedAnswer("the SMTP server sent a reply with no command outstanding (250)")) {
            try channel.writeInbound(ByteBuffer(string: "250 pre-sent\r\n"))
        }
        #expect(!channel.isActive)
    }

    @Test("STARTTLS's 220 switches to TLS; bytes after it drop the channel")
    func startTLS() throws {
        let good = channel()
        try good.writeInbound(ByteBuffer(string: "220 hi\r\n"))
        _ = try good.readInbound(as: SMTPReply.self)
        #expect(write(good, .startTLS(repliesRead: 1)) == nil)
        try good.writeInbound(ByteBuffer(string: "220 go ahead\r\n"))
        #expect((try? good.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)) != nil)

        let bad = channel()
        try bad.writeInbound(ByteBuffer(string: "220 hi\r\n"))
        #expect(write(bad, .startTLS(repliesRead: 1)) == nil)
        #expect(throws: TransportGuard.Violation.dataAfterStartTLS) {
            try bad.writeInbound(ByteBuffer(string: "220 go ahead\r\n250 AUTH PLAIN\r\n"))
        }
    }

    @Test("AUTH waits for a completed handshake unless plaintext was opted into")
    func credentials() throws {
        let auth = SMTPFrame.command(bytes: Array("AUTH PLAIN AGEAYg==\r\n".utf8), secret: true)
        let guarded = channel()
        #expect(write(guarded, auth) as? TransportGuard.Violation == .credentialsWithoutTLS)
        #expect(try guarded.readOutbound(as: ByteBuffer.self) == nil)

        let secured = channel()
        secured.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        #expect(write(secured, auth) == nil)
        #expect(try secured.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "AUTH PLAIN AGEAYg==\r\n")

        #expect(write(channel(plaintextAllowed: true), auth) == nil)
    }
}
