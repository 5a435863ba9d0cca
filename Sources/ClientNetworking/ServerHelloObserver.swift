public import NIOCore

/// Reads the cipher suite and the key-share group the server chose from its ServerHello,
/// which is plaintext in every TLS version, as the bytes pass by on their way to the TLS
/// handler (swift-nio-ssl exposes neither). Placed in front of the TLS handler; passes every
/// byte on unchanged and looks at no more than the first `ServerHello.maxObservedBytes`
/// (it stays in the pipeline, a pass-through, so the answers can be asked for). Nothing it
/// reads is trusted: it names what the handshake went on to use, and is only acted on
/// (key-share prediction) once NIOSSL has verified that handshake.
public final class ServerHelloObserver: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    /// The suite's code point, once read.
    public private(set) var cipherSuite: UInt16?
    /// The TLS 1.3 key-share group (RFC 8446 §4.2.8), once read; nil for TLS 1.2.
    public private(set) var keyShareGroup: UInt16?
    private var head: [UInt8] = []
    private var done = false

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !done {
            let buffer = unwrapInboundIn(data)
            let wanted = ServerHello.maxObservedBytes - head.count
            head.append(contentsOf: buffer.readableBytesView.prefix(wanted))
            let suite = ServerHello.cipherSuite(in: head)
            let group = ServerHello.keyShareGroup(in: head)
            if case .found(let code) = suite { cipherSuite = code }
            if case .found(let code) = group { keyShareGroup = code }
            if suite != .needMore, group != .needMore || head.count >= ServerHello.maxObservedBytes { finish() }
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
        /// A ServerHello without the field (no key share in TLS 1.2).
        case absent
        case notServerHello
    }

    /// Where the observer stops looking: past the cipher suite (record header 5, handshake
    /// header 4, version 2, random 32, session id 1 + ≤ 32, suite 2: at most 78 bytes) and a
    /// ServerHello's usual extensions (supported_versions, then key_share: ~100 bytes),
    /// short of anything a server could use to make it hold much.
    public static let maxObservedBytes = 512

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

    /// The group of the server's key_share extension (type 51), in a TLS 1.3 ServerHello
    /// or HelloRetryRequest; `.absent` when there is none (TLS 1.2), or when the message is
    /// not whole in its first record (no server sends one split) or its lengths disagree.
    public static func keyShareGroup(in bytes: [UInt8]) -> Reading {
        let reader = ByteReader(bytes)
        let suite = cipherSuite(in: bytes)
        guard suite != .notServerHello else { return .notServerHello }
        guard let recordLength = reader.uint16(at: 3), let messageLength = reader.uint24(at: 6),
              let sessionIDLength = reader.byte(at: 43) else { return .needMore }
        let messageEnd = 9 + messageLength
        guard messageEnd <= 5 + recordLength else { return .absent }
        // Session id, cipher suite 2, compression method 1.
        let extensionsAt = 44 + Int(sessionIDLength) + 2 + 1
        guard extensionsAt < messageEnd else { return .absent }  // no extensions: TLS 1.2
        guard let extensionsLength = reader.uint16(at: extensionsAt) else { return .needMore }
        let extensionsEnd = min(extensionsAt + 2 + extensionsLength, messageEnd)
        var at = extensionsAt + 2
        while at + 4 <= extensionsEnd {
            guard let type = reader.uint16(at: at), let length = reader.uint16(at: at + 2) else { return .needMore }
            if type == 51 {
                guard length >= 2, at + 6 <= extensionsEnd else { return .absent }
                guard let group = reader.uint16(at: at + 4) else { return .needMore }
                return .found(UInt16(group))
            }
            at += 4 + length
        }
        return .absent
    }
}

/// Big-endian numbers at offsets of a byte array; nil past its end.
private struct ByteReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func byte(at i: Int) -> UInt8? { i < bytes.count ? bytes[i] : nil }

    func uint16(at i: Int) -> Int? {
        guard i + 2 <= bytes.count else { return nil }
        return Int(bytes[i]) << 8 | Int(bytes[i + 1])
    }

    func uint24(at i: Int) -> Int? {
        guard i + 3 <= bytes.count else { return nil }
        return Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
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
