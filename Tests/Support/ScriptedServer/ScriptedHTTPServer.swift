import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A scripted HTTP server on loopback whose purpose is to misbehave (the doveadm API's
/// fault tests): it reads one request (headers and a Content-Length body), then answers
/// with canned bytes, says nothing, or drips bytes forever. It records what crossed the
/// wire and what arrived after TLS, so tests can prove what a client did not send.
public final class ScriptedHTTPServer: Sendable {
    public enum Behaviour: Sendable {
        /// These bytes (status line, headers, body), then close.
        case respond([UInt8])
        /// The bytes this function gives for the request (head and body, as text), then close.
        case answer(@Sendable (_ request: String) -> [UInt8])
        /// Read the request, never answer.
        case silent
        /// The status line and headers, then one byte of the body every `milliseconds`, forever.
        case drip(head: [UInt8], milliseconds: Int64)
    }

    public let port: Int
    private let channel: any Channel
    private let wire: NIOLockedValueBox<[UInt8]>
    private let plaintext: NIOLockedValueBox<[UInt8]>
    private let connections = OpenConnections()

    /// - tls: certificate and key files: TLS from the first byte (nil: plain HTTP).
    public init(tls: (certificate: String, key: String)?, behaviour: Behaviour) async throws {
        let context = try tls.map(serverTLSContext)
        let wire = NIOLockedValueBox<[UInt8]>([])
        let plaintext = NIOLockedValueBox<[UInt8]>([])
        self.wire = wire
        self.plaintext = plaintext
        (channel, port) = try await loopbackListener(connections) { pipeline in
            try pipeline.addHandler(WireRecorder(receivedRaw: wire))
            if let context { try pipeline.addHandler(NIOSSLServerHandler(context: context)) }
            try pipeline.addHandler(RequestHandler(behaviour: behaviour, plaintext: plaintext))
        }
    }

    /// Every byte any client sent, as it crossed the wire (TLS records still encrypted),
    /// once its connections have closed (see `OpenConnections`).
    public var receivedBytes: [UInt8] {
        get async { await connections.allClosed(); return wire.withLockedValue { $0 } }
    }
    /// What arrived in the clear: the requests themselves (after TLS, when TLS is on), once
    /// the connections have closed.
    public var receivedPlaintext: String {
        get async { await connections.allClosed(); return String(decoding: plaintext.withLockedValue { $0 }, as: UTF8.self) }
    }

    public func close() async {
        try? await channel.close()
    }

    /// A whole answer: status line, Content-Length and `body`.
    public static func answer(status: String = "200 OK", headers: [String] = [], body: String) -> [UInt8] {
        let lines = ["HTTP/1.1 \(status)", "Content-Length: \(body.utf8.count)", "Connection: close"] + headers
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }
}

private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let behaviour: ScriptedHTTPServer.Behaviour
    let plaintext: NIOLockedValueBox<[UInt8]>
    var pending: [UInt8] = []
    var answered = false

    init(behaviour: ScriptedHTTPServer.Behaviour, plaintext: NIOLockedValueBox<[UInt8]>) {
        self.behaviour = behaviour
        self.plaintext = plaintext
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).readableBytesView)
        plaintext.withLockedValue { $0 += bytes }
        pending += bytes
        guard !answered, requestComplete() else { return }
        answered = true
        let channel = context.channel
        switch behaviour {
        case .respond(let answer):
            channel.writeAndFlush(ByteBuffer(bytes: answer)).whenComplete { _ in channel.close(promise: nil) }
        case .answer(let respond):
            let answer = respond(String(decoding: pending, as: UTF8.self))
            channel.writeAndFlush(ByteBuffer(bytes: answer)).whenComplete { _ in channel.close(promise: nil) }
        case .silent:
            break
        case .drip(let head, let milliseconds):
            channel.writeAndFlush(ByteBuffer(bytes: head), promise: nil)
            channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(milliseconds)) { task in
                guard channel.isActive else { task.cancel(); return }
                channel.writeAndFlush(ByteBuffer(string: " "), promise: nil)
            }
        }
    }

    /// The headers have ended and Content-Length bytes of body followed.
    private func requestComplete() -> Bool {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = pending.indices.first(where: { pending[$0...].starts(with: separator) }) else { return false }
        let head = String(decoding: pending[..<end], as: UTF8.self).lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: " ")) } ?? 0
        return pending.count - (end + 4) >= length
    }
}

private extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
