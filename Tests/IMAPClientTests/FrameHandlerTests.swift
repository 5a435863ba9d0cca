import ClientNetworking
@testable import IMAPClient
import IMAPCore
import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS
import Testing

/// `IMAPFrameHandler` on an `EmbeddedChannel`: the STARTTLS switch and the transport
/// guard, byte by byte, without a socket.
@Suite("IMAP frame handler")
struct IMAPFrameHandlerTests {
    static let tls = try! TLSHandlerFactory(context: TLSClientContext(caFile: nil), host: "imap.example.test")

    func channel(plaintextAllowed: Bool = false) throws -> EmbeddedChannel {
        EmbeddedChannel(handler: IMAPFrameHandler(limits: .init(), plaintextAllowed: plaintextAllowed, tls: Self.tls))
    }

    func write(_ channel: EmbeddedChannel, _ frame: ClientFrame) -> (any Error)? {
        let future = channel.writeAndFlush(frame)
        channel.embeddedEventLoop.run()
        do {
            try future.wait()
            return nil
        } catch {
            return error
        }
    }

    func written(_ channel: EmbeddedChannel) throws -> String {
        var out = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: buffer) }
        return out
    }

    func hasTLSHandler(_ channel: EmbeddedChannel) -> Bool {
        (try? channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)) != nil
    }

    @Test("responses are framed and delivered; a tagged answer to a sent tag passes")
    func delivers() throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(string: "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"))
        #expect(try channel.readInbound(as: Response.self) != nil)
        #expect(write(channel, .command(tags: ["Ab1"], bytes: Array("Ab1 CAPABILITY\r\n".utf8), secret: false)) == nil)
        #expect(try written(channel) == "Ab1 CAPABILITY\r\n")
        try channel.writeInbound(ByteBuffer(string: "* CAPABILITY IMAP4rev1\r\nAb1 OK done\r\n"))
        #expect(try channel.readInbound(as: Response.self) != nil)
        #expect(try channel.readInbound(as: Response.self) == .tagged(tag: "Ab1", status: .init(.ok, ResponseText(code: nil, text: "done"))))
    }

    @Test("a tagged answer to a tag never sent closes the channel (response injection)")
    func unsolicitedTag() throws {
        let channel = try channel()
        #expect(throws: TransportGuard.Violation.unsolicitedAnswer("the server answered tag m1, which was never sent")) {
            try channel.writeInbound(ByteBuffer(string: "* OK hi\r\nm1 OK Begin TLS\r\n"))
        }
        #expect(!channel.isActive)
    }

    @Test("STARTTLS with a response delivered but not yet read is refused before it is written")
    func unreadBeforeStartTLS() throws {
        let channel = try channel()
        try channel.writeInbound(ByteBuffer(string: "* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"))
        // The connection has read only the greeting.
        let error = write(channel, .startTLS(tag: "Ab1", bytes: Array("Ab1 STARTTLS\r\n".utf8), responsesRead: 1))
        #expect(error as? TransportGuard.Violation == .injectedBeforeStartTLS)
        #expect(try written(channel).isEmpty)
        #expect(!channel.isActive)
    }

    @Test("STARTTLS OK alone switches to TLS at once; with bytes after it, the channel is dropped")
    func startTLSSwitch() throws {
        let good = try channel()
        try good.writeInbound(ByteBuffer(string: "* OK hi\r\n"))
        #expect(write(good, .startTLS(tag: "Ab1", bytes: Array("Ab1 STARTTLS\r\n".utf8), responsesRead: 1)) == nil)
        try good.writeInbound(ByteBuffer(string: "Ab1 OK go\r\n"))
        #expect(hasTLSHandler(good))

        let bad = try channel()
        try bad.writeInbound(ByteBuffer(string: "* OK hi\r\n"))
        #expect(write(bad, .startTLS(tag: "Ab1", bytes: Array("Ab1 STARTTLS\r\n".utf8), responsesRead: 1)) == nil)
        #expect(throws: TransportGuard.Violation.dataAfterStartTLS) {
            try bad.writeInbound(ByteBuffer(string: "Ab1 OK go\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"))
        }
        #expect(!hasTLSHandler(bad))
    }

    @Test("credential bytes wait for a completed handshake; the plaintext opt-in lets them through")
    func credentials() throws {
        let login = ClientFrame.command(tags: ["Ab2"], bytes: Array("Ab2 LOGIN alice secret\r\n".utf8), secret: true)
        let guarded = try channel()
        #expect(write(guarded, login) as? TransportGuard.Violation == .credentialsWithoutTLS)
        #expect(try written(guarded).isEmpty)

        let secured = try channel()
        secured.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        #expect(write(secured, login) == nil)
        #expect(try written(secured) == "Ab2 LOGIN alice secret\r\n")

        let optedIn = try channel(plaintextAllowed: true)
        #expect(write(optedIn, .continuation(bytes: Array("c2VjcmV0\r\n".utf8), secret: true)) == nil)
    }
}
