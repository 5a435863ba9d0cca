public import NIOCore

/// Reads the cipher suite the server chose from its ServerHello, which is plaintext in
/// every TLS version, as the bytes pass by on their way to the TLS handler (swift-nio-ssl
/// does not expose the negotiated cipher). Placed in front of the TLS handler; passes every
/// byte on unchanged and looks at no more than the first `ServerHello.bytesNeeded` bytes
/// (it stays in the pipeline, a pass-through, so the answer can be asked for). Nothing it reads is trusted: it only names
/// what the handshake, verified by NIOSSL, went on to use.
public final class ServerHelloObserver: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// The suite's code point, once read.
    public private(set) var cipherSuite: UInt16?
    private var head: [UInt8] = []
    private var done = false

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !done {
            let buffer = unwrapInboundIn(data)
            let wanted = ServerHello.bytesNeeded - head.count
            head.append(contentsOf: buffer.readableBytesView.prefix(wanted))
            switch ServerHello.cipherSuite(in: head) {
            case .needMore: break
            case .found(let suite):
                cipherSuite = suite
                finish()
            case .notServerHello:
                finish()
            }
        }
        context.fireChannelRead(data)
    }

    private func finish() {
        done = true
        head = []
    }
}

/// The first bytes of a server's TLS stream: a handshake record holding the ServerHello
/// (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).
public enum ServerHello {
    public enum Reading: Equatable, Sendable {
        case needMore
        case found(UInt16)
        case notServerHello
    }

    /// Record header 5, handshake header 4, version 2, random 32, session id 1 + ≤ 32,
    /// cipher suite 2.
    public static let bytesNeeded = 5 + 4 + 2 + 32 + 1 + 32 + 2

    public static func cipherSuite(in bytes: [UInt8]) -> Reading {
        // A handshake record (22) whose first message is a ServerHello (2).
        if bytes.count >= 1, bytes[0] != 22 { return .notServerHello }
        if bytes.count >= 6, bytes[5] != 2 { return .notServerHello }
        guard bytes.count > 43 else { return .needMore }
        let sessionIDLength = Int(bytes[43])
        guard sessionIDLength <= 32 else { return .notServerHello }
        let at = 44 + sessionIDLength
        guard bytes.count >= at + 2 else { return .needMore }
        return .found(UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]))
    }
}

/// IANA names of the suites a TLS 1.2+ client offers (BoringSSL's defaults and more).
public enum CipherSuiteName {
    static let names: [UInt16: String] = [
        0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384", 0x1303: "TLS_CHACHA20_POLY1305_SHA256",
        0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA", 0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    ]

    public static func name(of suite: UInt16) -> String {
        if let name = names[suite] { return name }
        let hex = String(suite, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
