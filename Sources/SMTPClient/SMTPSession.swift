public import Logging
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
public import ClientNetworking

/// How to reach an SMTP server and who to log in as.
public struct SMTPConfiguration: Sendable {
    /// implicit TLS ("submissions", 465, RFC 8314), STARTTLS (587), or the plaintext
    /// opt-in (a local relay on loopback).
    public typealias Security = TransportSecurity

    public var host: String
    public var port: Int
    public var security: Security
    public var caFile: String?
    /// A TLS context to share across sessions; nil: built from `caFile` per session.
    public var tlsContext: TLSClientContext?
    /// Connect timeout, and the deadline for each reply.
    public var timeoutSeconds: Double
    /// The name we give in EHLO.
    public var heloName: String
    public var user: String?
    public var password: String?

    public init(host: String, port: Int, security: Security, caFile: String? = nil, timeoutSeconds: Double = 30,
                heloName: String? = nil, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.security = security
        self.caFile = caFile
        self.tlsContext = nil
        self.timeoutSeconds = timeoutSeconds
        self.heloName = heloName ?? SMTPConfiguration.localHostName()
        self.user = user
        self.password = password
    }

    /// The host's name when it is a usable EHLO argument, else an address literal.
    static func localHostName() -> String {
        let name = ProcessInfo.processInfo.hostName
        return name.contains(".") && name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) ? name : "[127.0.0.1]"
    }
}

/// What happened to one message: who accepted it and who refused it.
public struct SMTPDelivery: Sendable, Hashable {
    public var accepted: [String]
    public var refused: [String: SMTPReply]
    /// The final reply to the message data (usually "250 2.0.0 Ok: queued as …").
    public var reply: SMTPReply
}

/// One SMTP session (RFC 5321), used from a single task inside `withSession`. Greeting,
/// EHLO, STARTTLS and AUTH happen before `body` runs; QUIT and close after it.
public final class SMTPSession {
    public private(set) var extensions: [String: [String]] = [:]
    private let configuration: SMTPConfiguration
    private let logger: Logger
    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<SMTPFrame>
    private let timedOut = NIOLockedValueBox<String?>(nil)
    private var needsReset = false
    /// Replies taken from the channel (see `SMTPFrame.startTLS`).
    private var repliesRead = 0

    private init(configuration: SMTPConfiguration, logger: Logger, channel: any Channel,
                 inbound: NIOAsyncChannelInboundStream<SMTPReply>, outbound: NIOAsyncChannelOutboundWriter<SMTPFrame>) {
        self.configuration = configuration
        self.logger = logger
        self.channel = channel
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    public static func withSession<T: Sendable>(
        _ configuration: SMTPConfiguration, logger: Logger = Logger(label: "mailgauge.smtp"),
        _ body: (SMTPSession) async throws -> T
    ) async throws -> T {
        let tls: TLSHandlerFactory?
        do {
            tls = try TLSHandlerFactory.unlessPlaintext(configuration.security == .insecurePlaintext, shared: configuration.tlsContext,
                                                        caFile: configuration.caFile, host: configuration.host)
        } catch {
            throw SMTPError.tls(reason: error.description)
        }
        let plaintextAllowed = configuration.security == .insecurePlaintext
        let asyncChannel: NIOAsyncChannel<SMTPReply, SMTPFrame>
        do {
            asyncChannel = try await ClientChannel.connect(
                host: configuration.host, port: configuration.port, timeoutSeconds: configuration.timeoutSeconds,
                implicitTLS: configuration.security == .implicitTLS ? tls : nil,
                makeFramingHandler: { SMTPFrameHandler(plaintextAllowed: plaintextAllowed, tls: tls) })
        } catch {
            throw mapConnectError(error, configuration)
        }
        return try await ClientChannel.withSession(
            on: asyncChannel,
            makeSession: { SMTPSession(configuration: configuration, logger: logger, channel: asyncChannel.channel, inbound: $0, outbound: $1) },
            open: { try await $0.open() }, close: { await $0.quitQuietly() }, mapError: { $0.map($1) }, body)
    }

    // MARK: - Opening

    private func open() async throws {
        let greeting = try await nextReply(stage: "greeting")
        guard greeting.code == 220 else { throw SMTPError.rejected(command: "greeting", reply: greeting) }
        try await ehlo()
        if configuration.security == .startTLS {
            guard extensions["STARTTLS"] != nil else { throw SMTPError.startTLSUnavailable }
            logger.trace("C: STARTTLS")
            try await write(.startTLS(repliesRead: repliesRead))
            let reply = try await nextReply(stage: "STARTTLS")
            guard reply.code == 220 else { throw SMTPError.tls(reason: "the SMTP server refused STARTTLS: \(reply)") }
            // RFC 3207 §4.2: discard what was learnt before TLS and say EHLO again.
            extensions = [:]
            try await ehlo()
        }
        if let user = configuration.user, let password = configuration.password {
            try await authenticate(user: user, password: password)
        }
    }

    private func ehlo() async throws {
        let reply = try await command("EHLO \(configuration.heloName)")
        guard reply.code == 250 else { throw SMTPError.rejected(command: "EHLO", reply: reply) }
        extensions = reply.extensions
    }

    /// AUTH PLAIN (with the initial response, RFC 4954) when offered, else AUTH LOGIN.
    private func authenticate(user: String, password: String) async throws {
        let offered = extensions["AUTH"] ?? []
        if offered.contains("PLAIN") {
            let token = Data(([0] + Array(user.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            let reply = try await command("AUTH PLAIN \(token)", logAs: "AUTH PLAIN <redacted>", secret: true)
            guard reply.code == 235 else { throw SMTPError.authFailed(reply) }
        } else if offered.contains("LOGIN") {
            var reply = try await command("AUTH LOGIN")
            guard reply.code == 334 else { throw SMTPError.authFailed(reply) }
            reply = try await command(Data(user.utf8).base64EncodedString(), logAs: "<user>", secret: true)
            guard reply.code == 334 else { throw SMTPError.authFailed(reply) }
            reply = try await command(Data(password.utf8).base64EncodedString(), logAs: "<redacted>", secret: true)
            guard reply.code == 235 else { throw SMTPError.authFailed(reply) }
        } else {
            throw SMTPError.authUnavailable(offered: offered)
        }
    }

    // MARK: - Sending

    /// Sends one message to `recipients` (default: its To addresses). Refused recipients
    /// are reported, not fatal, as long as one accepts; none accepting throws.
    @discardableResult
    public func send(_ message: MailMessage, recipients: [String]? = nil) async throws -> SMTPDelivery {
        if needsReset {
            _ = try await command("RSET")
        }
        needsReset = true
        guard MailAddress.isPlausible(message.from.address) else {
            throw SMTPError.protocolViolation("the sender is not a valid address (refused locally)")
        }
        let utf8 = !(message.from.address + (recipients ?? message.to.map(\.address)).joined()).allSatisfy(\.isASCII)
        let smtputf8 = utf8 && extensions["SMTPUTF8"] != nil ? " SMTPUTF8" : ""
        let mail = try await command("MAIL FROM:<\(message.from.address)>\(smtputf8)")
        guard mail.code == 250 else { throw SMTPError.rejected(command: "MAIL FROM", reply: mail) }
        var accepted: [String] = []
        var refused: [String: SMTPReply] = [:]
        for rcpt in recipients ?? message.to.map(\.address) {
            guard MailAddress.isPlausible(rcpt) else {
                refused[rcpt] = SMTPReply(code: 501, lines: ["not a valid address (refused locally)"])
                continue
            }
            let reply = try await command("RCPT TO:<\(rcpt)>")
            if reply.code == 250 || reply.code == 251 { accepted.append(rcpt) } else { refused[rcpt] = reply }
        }
        guard !accepted.isEmpty else { throw SMTPError.noRecipientAccepted(refused) }
        let data = try await command("DATA")
        guard data.code == 354 else { throw SMTPError.rejected(command: "DATA", reply: data) }
        logger.trace("C: <message data>")
        try await write(.command(bytes: DotStuffing.encode(message.rendered()), secret: false))
        let reply = try await nextReply(stage: "end of data")
        guard reply.code == 250 else { throw SMTPError.rejected(command: "end of data", reply: reply) }
        needsReset = false
        return SMTPDelivery(accepted: accepted, refused: refused, reply: reply)
    }

    // MARK: - Plumbing

    private func command(_ line: String, logAs: String? = nil, secret: Bool = false) async throws -> SMTPReply {
        // Bytes, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        guard !line.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == 0 }) else {
            throw SMTPError.protocolViolation("refusing to send a command with a line break (injection)")
        }
        let stage = logAs ?? String(line.prefix(while: { $0 != " " && $0 != ":" }))
        logger.trace("C: \(logAs ?? line)")
        try await write(.command(bytes: Array((line + "\r\n").utf8), secret: secret))
        return try await nextReply(stage: stage)
    }

    /// Writes a frame. When the channel has died (the frame handler refused the frame, TLS
    /// failed, the server left), the reason waits on the inbound side: read it from there.
    private func write(_ frame: SMTPFrame) async throws {
        do {
            try await ClientChannel.write(frame, to: outbound, reasonFrom: &inbound)
        } catch {
            throw map(error)
        }
    }

    private func quitQuietly() async {
        guard channel.isActive else { return }
        _ = try? await command("QUIT")
    }

    private func nextReply(stage: String) async throws -> SMTPReply {
        let channel = self.channel
        let box = self.timedOut
        let seconds = configuration.timeoutSeconds
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
            box.withLockedValue { $0 = stage }
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            guard let reply = try await inbound.next() else {
                if let s = timedOut.withLockedValue({ $0 }) { throw SMTPError.timeout(stage: s, seconds: seconds) }
                throw SMTPError.closed(stage: stage)
            }
            repliesRead += 1
            logger.trace("S: \(reply)")
            if reply.code == 421 { throw SMTPError.rejected(command: stage, reply: reply) }
            return reply
        } catch let error as SMTPError {
            throw error
        } catch {
            throw map(error)
        }
    }

    func map(_ error: any Error) -> SMTPError {
        if let e = error as? SMTPError { return e }
        if let stage = timedOut.withLockedValue({ $0 }) { return .timeout(stage: stage, seconds: configuration.timeoutSeconds) }
        if let e = error as? SMTPReplyError { return .protocolViolation(e.description) }
        if let e = error as? TransportGuard.Violation { return .protocolViolation(e.description) }
        if let e = error as? NIOSSLError {
            switch TLSFailure(e) {
            case .certificateNotTrusted:
                return .tls(reason: "certificate verify failed: the SMTP server's certificate is not signed by a trusted CA (system store, or ca_file)")
            case .notTLS:
                return .tls(reason: "handshake failed: the server did not answer with TLS (a STARTTLS port? use tls: starttls)")
            default:
                return .tls(reason: "handshake failed: \(e)")
            }
        }
        if error is NIOSSLExtraError || error is BoringSSLError { return .tls(reason: "\(error)") }
        if error is ChannelError { return .closed(stage: "the session") }
        return .protocolViolation("\(error)")
    }

    static func mapConnectError(_ error: any Error, _ c: SMTPConfiguration) -> SMTPError {
        switch ConnectFailure(error, timeoutSeconds: c.timeoutSeconds) {
        case .dns(let reason): .dns(host: c.host, reason: reason)
        case .connect(let reason): .connect(host: c.host, port: c.port, reason: reason)
        }
    }
}
