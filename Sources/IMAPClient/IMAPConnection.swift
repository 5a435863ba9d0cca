public import IMAPCore
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
public import ClientNetworking

/// One IMAP session, used from a single task inside `IMAPConnection.withConnection`.
///
/// The connection is open, greeted and (for `imap://`) already under TLS when the body
/// runs; the body logs in and issues commands; afterwards LOGOUT is sent and the channel
/// closed, whatever happened. A command that gets no answer within the timeout closes the
/// connection: IMAP cannot be resynchronised after a lost response.
public final class IMAPConnection {
    public private(set) var capabilities: Set<Capability> = []
    public private(set) var isAuthenticated = false
    /// The server's `ID` answer, when it offered ID.
    public private(set) var serverID: [IDParameter]?
    /// Logged in to a server that offers ID, and ours not sent yet.
    private var idOwed = false
    /// `[ALERT]` texts the server sent; RFC 3501 says they must reach the user.
    public private(set) var alerts: [String] = []
    /// What the TLS handshake said about the server (version, cipher, certificate); nil
    /// on a plaintext connection.
    public private(set) var tlsFacts: TLSFacts?

    let configuration: ConnectionConfiguration
    let logger: Logger
    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<Response>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ClientFrame>
    private var tagCounter = 0
    /// Unpredictable per connection, so a meddler cannot pre-send a tagged answer
    /// (defence in depth: the frame handler refuses answers to tags not yet sent).
    private let tagPrefix = IMAPConnection.randomTagPrefix()
    /// Responses taken from the channel; the frame handler compares it with what it
    /// delivered when STARTTLS is written.
    private var responsesRead = 0
    private let timedOut = NIOLockedValueBox<String?>(nil)
    private var closedByServer: String?

    private init(configuration: ConnectionConfiguration, logger: Logger, channel: any Channel,
                 inbound: NIOAsyncChannelInboundStream<Response>, outbound: NIOAsyncChannelOutboundWriter<ClientFrame>) {
        self.configuration = configuration
        self.logger = logger
        self.channel = channel
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    // MARK: - Opening

    /// Connects, reads the greeting, performs STARTTLS when required, reads capabilities,
    /// then runs `body`. LOGOUT and close happen after `body`, even when it throws.
    public static func withConnection<T: Sendable>(
        _ configuration: ConnectionConfiguration,
        logger: Logger = Logger(label: "mailgauge.imap"),
        _ body: (IMAPConnection) async throws -> T
    ) async throws -> T {
        // No TLS context at all for a plaintext connection; otherwise the pass's shared
        // one, or one built for this connection alone (`probe`).
        let tls: TLSHandlerFactory?
        do {
            tls = try TLSHandlerFactory.unlessPlaintext(configuration.security == .insecurePlaintext, shared: configuration.tlsContext,
                                                        caFile: configuration.caFile, host: configuration.host)
        } catch {
            throw IMAPClientError.tls(reason: error.description)
        }
        let limits = configuration.parserLimits
        let plaintextAllowed = configuration.security == .insecurePlaintext
        let asyncChannel: NIOAsyncChannel<Response, ClientFrame>
        do {
            asyncChannel = try await ClientChannel.connect(
                host: configuration.host, port: configuration.port, timeoutSeconds: configuration.timeoutSeconds,
                implicitTLS: configuration.security == .implicitTLS ? tls : nil, addresses: configuration.addresses,
                makeFramingHandler: { IMAPFrameHandler(limits: limits, plaintextAllowed: plaintextAllowed, tls: tls) })
        } catch {
            throw mapConnectError(error, configuration)
        }
        return try await ClientChannel.withSession(
            on: asyncChannel,
            makeSession: { IMAPConnection(configuration: configuration, logger: logger, channel: asyncChannel.channel, inbound: $0, outbound: $1) },
            open: { session in
                try await session.open()
                if let tls {
                    session.tlsFacts = await TLSFacts.read(from: asyncChannel.channel, context: tls.context)
                    // Read after the verified handshake: what later connections predict.
                    if let group = session.tlsFacts?.keyShareGroup { tls.context.learnKeyShare(group: group) }
                }
            }, close: { await $0.logoutQuietly() }, mapError: { $0.map($1) }, body)
    }

    private func open() async throws {
        let greeting = try await nextResponse(stage: "greeting", deadline: commandDeadline())
        guard case .untagged(let untagged) = greeting else {
            throw IMAPClientError.protocolViolation("expected a greeting, got \(greeting)")
        }
        switch untagged {
        case .status(let status) where status.kind == .ok:
            takeCapabilities(from: status.text)
        case .preauth(let text):
            takeCapabilities(from: text)
            isAuthenticated = true
        case .bye(let text):
            throw IMAPClientError.connectionClosed(reason: text.text, code: text.code)
        default:
            throw IMAPClientError.protocolViolation("unexpected greeting \(untagged)")
        }
        if capabilities.isEmpty { try await refreshCapabilities() }
        if configuration.security == .startTLS {
            guard !isAuthenticated else {
                throw IMAPClientError.protocolViolation("PREAUTH on an imap:// connection: cannot start TLS")
            }
            guard capabilities.contains(.startTLS) else { throw IMAPClientError.startTLSUnavailable }
            let tag = nextTag()
            let encoded = CommandEncoder().encode(.startTLS, tag: tag)
            logger.trace("C: \(tag) STARTTLS")
            let deadline = commandDeadline()
            try await write(.startTLS(tag: tag, bytes: encoded.flattened, responsesRead: responsesRead))
            let status = try await awaitTagged(tag, stage: "STARTTLS", deadline: deadline) { _ in }
            guard status.kind == .ok else { throw IMAPClientError.startTLSRefused(status.text) }
            // RFC 3501 §6.2.1: forget what was said before TLS, alerts included (a meddler
            // could have written them); ask again over TLS.
            capabilities = []
            alerts = []
            try await refreshCapabilities()
        }
    }

    // MARK: - Commands

    /// Runs one command, passing each untagged response to `onUntagged`, and returns the
    /// tagged status. NO/BAD throw `commandFailed`.
    @discardableResult
    public func execute(_ command: Command, onUntagged: (UntaggedResponse) throws -> Void = { _ in }) async throws -> ResponseStatus {
        try await sendOwedID()
        let tag = nextTag()
        let stage = command.redactedDescription
        let deadline = commandDeadline()
        try await send(command, tag: tag, stage: stage, deadline: deadline)
        let status = try await awaitTagged(tag, stage: stage, deadline: deadline, onUntagged)
        guard status.kind == .ok else { throw IMAPClientError.commandFailed(command: verb(of: stage), status: status) }
        return status
    }

    /// Runs one command and returns its untagged responses.
    public func collect(_ command: Command) async throws -> [UntaggedResponse] {
        var responses: [UntaggedResponse] = []
        try await execute(command) { responses.append($0) }
        return responses
    }

    /// Sends all commands at once, then reads their answers (RFC 3501 §5.5 pipelining):
    /// one round trip for N STATUS commands instead of N. Each result is the untagged
    /// responses that arrived before that command's tagged reply, or its error. Commands
    /// that need a synchronising literal cannot be pipelined and run one by one.
    public func pipeline(_ commands: [Command]) async throws -> [Result<[UntaggedResponse], IMAPClientError>] {
        var collected = Array(repeating: [UntaggedResponse](), count: commands.count)
        let statuses = try await pipeline(commands) { index, response in collected[index].append(response) }
        return zip(statuses, collected).map { status, responses in status.map { _ in responses } }
    }

    /// `pipeline`, handing each untagged response to `onUntagged` as it arrives, with the
    /// index of the command whose answer is being read (so a caller can stop a server that
    /// sends too much before it is all held). Each result is the command's tagged OK, or
    /// its NO/BAD as `commandFailed`. An owed ID leads the batch.
    public func pipeline(_ commands: [Command], onUntagged: (Int, UntaggedResponse) throws -> Void) async throws
        -> [Result<ResponseStatus, IMAPClientError>] {
        if idOwed {
            idOwed = false
            var results = try await pipeline([.id(configuration.clientID)] + commands) { index, response in
                if index == 0 {
                    if case .id(let params) = response { serverID = params }
                } else {
                    try onUntagged(index - 1, response)
                }
            }
            _ = try results.removeFirst().get()
            return results
        }
        let encoder = CommandEncoder(options: .init(capabilities: capabilities))
        var tags: [String] = []
        var batch: [UInt8] = []
        for command in commands {
            let tag = nextTag()
            let encoded = encoder.encode(command, tag: tag)
            guard encoded.parts.count == 1 else {
                // Nothing has been sent yet: run them one by one instead.
                return try await sequentially(commands, onUntagged: onUntagged)
            }
            tags.append(tag)
            batch += encoded.parts[0]
        }
        logger.trace("C: pipelined \(commands.count) commands")
        try await write(.command(tags: tags, bytes: batch, secret: false))
        var results: [Result<ResponseStatus, IMAPClientError>] = []
        for (index, (tag, command)) in zip(tags, commands).enumerated() {
            // Each answer gets the full per-command time from the one before it: the
            // server works through a pipeline in order.
            let status = try await awaitTagged(tag, stage: command.redactedDescription, deadline: commandDeadline()) {
                try onUntagged(index, $0)
            }
            results.append(status.kind == .ok ? .success(status)
                : .failure(.commandFailed(command: verb(of: command.redactedDescription), status: status)))
        }
        return results
    }

    private func sequentially(_ commands: [Command], onUntagged: (Int, UntaggedResponse) throws -> Void) async throws
        -> [Result<ResponseStatus, IMAPClientError>] {
        var results: [Result<ResponseStatus, IMAPClientError>] = []
        for (index, command) in commands.enumerated() {
            do {
                results.append(.success(try await execute(command) { try onUntagged(index, $0) }))
            } catch let error as IMAPClientError {
                guard case .commandFailed = error else { throw error }
                results.append(.failure(error))
            }
        }
        return results
    }

    public func refreshCapabilities() async throws {
        var fresh = Set<Capability>()
        let status = try await execute(.capability) { response in
            if case .capability(let caps) = response { fresh.formUnion(caps) }
        }
        if case .capability(let caps)? = status.text.code { fresh.formUnion(caps) }
        capabilities = fresh
    }

    // MARK: - Authentication

    /// Logs in, refusing to send credentials where they could leak: over plaintext
    /// without opt-in (the connection type already guarantees TLS otherwise) or when the
    /// server says LOGINDISABLED. Re-reads capabilities afterwards; sends ID when offered.
    public func authenticate(_ credentials: Credentials) async throws {
        guard !isAuthenticated else { return }
        if configuration.security == .insecurePlaintext, capabilities.contains(.loginDisabled) {
            throw IMAPClientError.loginDisabled(reason: "server says LOGINDISABLED on this unencrypted connection; no credentials sent (use imaps:// or imap:// with STARTTLS)")
        }
        var mechanism = credentials.mechanism
        if mechanism == .auto { mechanism = capabilities.authMechanisms.contains("PLAIN") ? .plain : .login }
        let loginCapabilities: Set<Capability>?
        do {
            switch mechanism {
            case .login, .auto:
                guard !capabilities.contains(.loginDisabled) else {
                    throw IMAPClientError.loginDisabled(reason: "server says LOGINDISABLED; no credentials sent (try --auth plain)")
                }
                if credentials.authorizationID != nil {
                    throw IMAPClientError.mechanismUnavailable("PLAIN (LOGIN cannot carry an authorization id; use --auth plain)")
                }
                loginCapabilities = try await runLogin(.login(user: credentials.user, password: credentials.secret))
            case .plain:
                let ir = SASL.plain(authorizationID: credentials.authorizationID, authenticationID: credentials.user,
                                    password: credentials.secret)
                loginCapabilities = try await runSASL("PLAIN", initialResponse: SASL.base64(ir))
            case .xoauth2:
                let ir = SASL.xoauth2(user: credentials.authorizationID ?? credentials.user, token: credentials.secret)
                loginCapabilities = try await runSASL("XOAUTH2", initialResponse: SASL.base64(ir))
            case .oauthbearer:
                let ir = SASL.oauthBearer(user: credentials.authorizationID ?? credentials.user, host: configuration.host,
                                          port: configuration.port, token: credentials.secret)
                loginCapabilities = try await runSASL("OAUTHBEARER", initialResponse: SASL.base64(ir))
            }
        } catch IMAPClientError.commandFailed(_, let status) {
            throw IMAPClientError.authenticationFailed(status.text)
        }
        isAuthenticated = true
        // Servers announce more after login (Dovecot: QUOTA, STATUS=SIZE, LIST-STATUS…).
        if let loginCapabilities, !loginCapabilities.isEmpty {
            capabilities = loginCapabilities
        } else {
            try await refreshCapabilities()
        }
        // RFC 2971 ID goes out with the next command (pipelined with the next batch), not
        // in a round trip of its own.
        idOwed = capabilities.contains(.id)
    }

    /// Sends the owed ID on its own (before a command that is not pipelined): a pipeline of
    /// nothing else, which takes the server's answer the one way.
    private func sendOwedID() async throws {
        guard idOwed else { return }
        _ = try await pipeline([]) { _, _ in }
    }

    /// LOGIN; returns capabilities the server sent with its answer, if any.
    private func runLogin(_ command: Command) async throws -> Set<Capability>? {
        var caps: Set<Capability>?
        let status = try await execute(command) { response in
            if case .capability(let c) = response { caps = c }
        }
        if case .capability(let c)? = status.text.code { caps = c }
        return caps
    }

    /// AUTHENTICATE with an initial response: inline under SASL-IR, else after the first
    /// `+`. A `+` with a challenge after the credentials is an error report (XOAUTH2,
    /// OAUTHBEARER): answer it with the empty/`^A` response so the server sends its NO.
    private func runSASL(_ mechanism: String, initialResponse: String) async throws -> Set<Capability>? {
        guard capabilities.authMechanisms.contains(mechanism) else {
            throw IMAPClientError.mechanismUnavailable(mechanism)
        }
        let inline = capabilities.contains(.saslIR)
        let tag = nextTag()
        let command = Command.authenticate(mechanism: mechanism, initialResponse: inline ? initialResponse : nil)
        let stage = command.redactedDescription
        let deadline = commandDeadline()
        try await send(command, tag: tag, stage: stage, deadline: deadline, secret: inline)
        var sentInitial = inline
        var rounds = 0
        var caps: Set<Capability>?
        let status = try await awaitTagged(tag, stage: stage, deadline: deadline, onContinuation: { _ in
            // PLAIN needs one round, the OAuth error report one more: a server that keeps
            // asking is stalling (or fishing), not authenticating.
            rounds += 1
            guard rounds <= Self.maxSASLRounds else {
                throw IMAPClientError.protocolViolation("the server asked for more than \(Self.maxSASLRounds) SASL rounds during AUTHENTICATE \(mechanism)")
            }
            if !sentInitial {
                sentInitial = true
                return Array((initialResponse + "\r\n").utf8)
            }
            // Error challenge: RFC 7628 §3.2.3 wants %x01 (base64 "AQ=="); XOAUTH2 an empty line.
            return Array((mechanism == "OAUTHBEARER" ? "AQ==\r\n" : "\r\n").utf8)
        }) { response in
            if case .capability(let c) = response { caps = c }
        }
        if case .capability(let c)? = status.text.code { caps = c }
        guard status.kind == .ok else { throw IMAPClientError.commandFailed(command: "AUTHENTICATE", status: status) }
        return caps
    }

    /// LOGOUT, ignoring failures: the session is over either way. Its answer is not
    /// waited for: the server's BYE and OK tell a probe nothing, and reading them was one
    /// more round trip per account (5 % of a pass's client CPU). The connection is closed
    /// once the command is written, so the server still ends the session on a LOGOUT
    /// (Dovecot logs "Logged out") rather than on a dropped connection.
    func logoutQuietly() async {
        guard closedByServer == nil, channel.isActive else { return }
        do {
            try await send(.logout, tag: nextTag(), stage: "LOGOUT", deadline: commandDeadline())
        } catch {
            logger.debug("LOGOUT did not complete", metadata: ["error": "\(map(error))"])
        }
    }

    // MARK: - Plumbing

    /// SASL continuations answered in one AUTHENTICATE.
    static let maxSASLRounds = 3

    private func nextTag() -> String {
        tagCounter += 1
        return "\(tagPrefix)\(tagCounter)"
    }

    /// Four random letters: tag = tag-char excluding "+" (RFC 9051); letters need no care.
    static func randomTagPrefix() -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        return String((0..<4).map { _ in letters.randomElement()! })
    }

    /// The moment by which the command being started must be answered in full: a
    /// deadline, not an idle timer, so a server that keeps talking cannot stretch it.
    private func commandDeadline() -> NIODeadline {
        .now() + .nanoseconds(Int64(configuration.timeoutSeconds * 1e9))
    }

    private func verb(of stage: String) -> String {
        String(stage.prefix { $0 != " " })
    }

    /// Writes to the channel. When the channel has died (TLS handshake failure after
    /// STARTTLS, server gone) the write error only says "closed"; the reason waits on the
    /// inbound side, so read it from there.
    private func write(_ frame: ClientFrame) async throws {
        do {
            try await ClientChannel.write(frame, to: outbound, reasonFrom: &inbound)
        } catch {
            throw map(error)
        }
    }

    /// Writes a command, waiting for `+` between the parts of synchronising literals.
    /// `secret`: the command carries a credential (the frame handler then requires TLS).
    private func send(_ command: Command, tag: String, stage: String, deadline: NIODeadline, secret: Bool? = nil) async throws {
        let encoded = CommandEncoder(options: .init(capabilities: capabilities)).encode(command, tag: tag)
        let secret = secret ?? command.carriesSecret
        logger.trace("C: \(tag) \(stage)")
        for (index, part) in encoded.parts.enumerated() {
            if index > 0 {
                let response = try await nextResponse(stage: stage, deadline: deadline)
                switch response {
                case .continuation:
                    break
                case .tagged(let t, let status) where t == tag:
                    throw IMAPClientError.commandFailed(command: verb(of: stage), status: status)
                default:
                    throw IMAPClientError.protocolViolation("expected + for a literal in \(verb(of: stage)), got \(response)")
                }
            }
            try await write(index == 0 ? .command(tags: [tag], bytes: part, secret: secret)
                                       : .continuation(bytes: part, secret: secret))
        }
    }

    /// Reads until the tagged response for `tag`, handing untagged responses to
    /// `onUntagged` (after noting capabilities, alerts and BYE).
    private func awaitTagged(_ tag: String, stage: String, deadline: NIODeadline,
                             onContinuation: ((String) throws -> [UInt8])? = nil,
                             _ onUntagged: (UntaggedResponse) throws -> Void) async throws -> ResponseStatus {
        var untaggedInCommand = 0
        while true {
            let response = try await nextResponse(stage: stage, deadline: deadline)
            switch response {
            case .tagged(let t, let status):
                if case .alert? = status.text.code { alerts.append(status.text.text) }
                guard t == tag else {
                    throw IMAPClientError.protocolViolation("answer for unknown tag \(t) while waiting for \(tag)")
                }
                return status
            case .continuation(let text):
                guard let onContinuation else {
                    throw IMAPClientError.protocolViolation("unexpected continuation request during \(verb(of: stage))")
                }
                // Continuations are only asked for during AUTHENTICATE: the answer is a credential.
                try await write(.continuation(bytes: onContinuation(text), secret: true))
            case .untagged(let untagged):
                untaggedInCommand += 1
                guard untaggedInCommand <= configuration.maxResponsesPerCommand else {
                    throw IMAPClientError.protocolViolation(
                        "more than \(configuration.maxResponsesPerCommand) untagged responses to \(verb(of: stage)) (max_responses_per_command)")
                }
                switch untagged {
                case .bye(let text):
                    // BYE during LOGOUT is the normal goodbye; anywhere else the server is leaving.
                    if stage != "LOGOUT" {
                        closedByServer = text.text
                        throw IMAPClientError.connectionClosed(reason: text.text, code: text.code)
                    }
                case .status(let status):
                    if case .alert? = status.text.code { alerts.append(status.text.text) }
                    if case .capability(let caps)? = status.text.code { capabilities = caps }
                default:
                    break
                }
                try onUntagged(untagged)
            }
        }
    }

    /// The next response, before `deadline`. At the deadline the channel is closed, which
    /// ends the wait; `timedOut` tells the two endings apart.
    private func nextResponse(stage: String, deadline: NIODeadline) async throws -> Response {
        let channel = self.channel
        let box = self.timedOut
        let seconds = configuration.timeoutSeconds
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            box.withLockedValue { $0 = stage }
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            guard let response = try await inbound.next() else {
                if timedOut.withLockedValue({ $0 }) != nil { throw IMAPClientError.timeout(stage: stage, seconds: seconds) }
                closedByServer = "EOF"
                throw IMAPClientError.connectionClosed(reason: "connection closed during \(verb(of: stage))")
            }
            responsesRead += 1
            logger.trace("S: \(response)")
            return response
        } catch let error as IMAPClientError {
            throw error
        } catch {
            if let stage = timedOut.withLockedValue({ $0 }) { throw IMAPClientError.timeout(stage: stage, seconds: seconds) }
            throw map(error)
        }
    }

    private func takeCapabilities(from text: ResponseText) {
        if case .capability(let caps)? = text.code { capabilities = caps }
        if case .alert? = text.code { alerts.append(text.text) }
    }

    /// Maps NIO, TLS and parser errors to `IMAPClientError`.
    func map(_ error: any Error) -> IMAPClientError {
        if let e = error as? IMAPClientError { return e }
        if let stage = timedOut.withLockedValue({ $0 }) {
            return .timeout(stage: stage, seconds: configuration.timeoutSeconds)
        }
        if let e = error as? IMAPParseError { return .protocolViolation(e.description) }
        if let e = error as? TransportGuard.Violation { return .protocolViolation(e.description) }
        if let e = error as? NIOSSLError { return .tls(reason: describeTLS(e)) }
        if let e = error as? NIOSSLExtraError { return .tls(reason: "\(e)") }
        if let e = error as? BoringSSLError { return .tls(reason: "\(e)") }
        if error is ChannelError { return .connectionClosed(reason: "\(error)") }
        return .protocolViolation("\(error)")
    }
}

// MARK: - TLS and connect helpers

extension IMAPConnection {
    static func mapConnectError(_ error: any Error, _ configuration: ConnectionConfiguration) -> IMAPClientError {
        if let e = error as? IMAPClientError { return e }
        switch ConnectFailure(error, timeoutSeconds: configuration.timeoutSeconds) {
        case .dns(let reason): return .dns(host: configuration.host, reason: reason)
        case .connect(let reason): return .connect(host: configuration.host, port: configuration.port, reason: reason)
        }
    }
}

/// A one-line reason for a TLS failure an admin can act on.
func describeTLS(_ error: NIOSSLError) -> String {
    switch TLSFailure(error) {
    case .certificateNotTrusted:
        "certificate verify failed: the server's certificate is not signed by a trusted CA (system trust store, or --ca-file)"
    case .notTLS: "handshake failed: the server did not answer with TLS (is this a plaintext/STARTTLS port? try imap://)"
    case .versionTooOld: "handshake failed: the server offers only TLS older than 1.2"
    case .closedDuringHandshake: "connection closed during the TLS handshake"
    case .other(let text): "handshake failed: \(text)"
    }
}
