import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server for `/metrics`, the pages, `/-/healthy` and `/-/ready`, on
/// SwiftNIO's HTTP/1 codec. Basic auth and TLS are left to a reverse proxy: bind to
/// localhost (the default) unless the network is trusted. A scrape only reads the database.
///
/// Whoever reaches the port can hold connections, so what a client may cost is bounded
/// (`Limits`) and a scrape keeps getting through: at the connection cap the connection
/// that has been idle longest is closed for the new one (a request in progress is never
/// dropped for an idle one); a request must arrive, and its response be taken, within a
/// deadline; page requests may hold only part of the slots (`Limits.pageSlots`), the rest
/// stay for scrapes. Kept by hand rather than moved to Hummingbird: these policies are a
/// few lines over NIO's codec here, and Hummingbird's server has no idle eviction either.
public struct MetricsHTTPServer: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        /// A cached body is one buffer shared by every response that sends it (copy on
        /// write): 64 slow readers of a 5 MB page hold one copy, not 64.
        var body: ByteBuffer
        /// More headers (an HTML page's Content-Security-Policy).
        public var headers: [(String, String)]

        public var bodyText: String { String(buffer: body) }

        init(status: Int, contentType: String = "text/plain; charset=utf-8", body: ByteBuffer, headers: [(String, String)] = []) {
            self.status = status
            self.contentType = contentType
            self.body = body
            self.headers = headers
        }

        /// The text is turned into bytes once, here: a cached response shares them.
        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String, headers: [(String, String)] = []) {
            self.init(status: status, contentType: contentType, body: ByteBuffer(string: body), headers: headers)
        }
    }

    public typealias Handler = @Sendable (_ method: String, _ path: String) async -> Response

    /// What one client may cost: the server is reachable by whoever can reach the port.
    public struct Limits: Sendable {
        /// Connections held at once. At the cap, the longest-idle one is closed for a new
        /// one; with none idle (all serving a request), the new one is closed.
        public var maxConnections = 64
        /// Requests other than `/metrics` and `/-/…` served at once; more get 503, so the
        /// other slots stay for scrapes.
        public var pageSlots = 48
        /// From connect (or the previous response) to a complete request: a client that
        /// trickles a header a byte at a time (slowloris) is cut off here.
        public var requestTimeoutSeconds: Double = 10
        /// From the first byte of a response to its last written: a client that asks and
        /// never reads is cut off here.
        public var writeTimeoutSeconds: Double = 10
        /// Request body bytes accepted (a scrape sends none).
        public var maxBodyBytes = 64 * 1024

        public init() {}
    }

    let host: String
    let port: Int
    let handler: Handler
    let limits: Limits
    private let table = ConnectionTable()

    public init(host: String, port: Int, limits: Limits = Limits(), handler: @escaping Handler) {
        self.host = host
        self.port = port
        self.limits = limits
        self.handler = handler
    }

    /// A scrape or a probe of health: always served, never counted against `pageSlots`.
    static func isScrape(_ path: String) -> Bool { path == "/metrics" || path.hasPrefix("/-/") }

    /// Binds, reports the bound port, then serves until the task is cancelled.
    public func run(onBound: @Sendable (Int) -> Void = { _ in }) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        onBound(server.channel.localAddress?.port ?? port)
        try await withTaskCancellationHandler {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        let id = ObjectIdentifier(connection.channel)
                        let (admitted, evicted) = table.admit(id, connection.channel, max: limits.maxConnections)
                        evicted?.close(promise: nil)
                        guard admitted else {
                            // Closed through the async wrapper: a wrapper dropped unfinished traps.
                            group.addTask { try? await connection.executeThenClose { _, _ in } }
                            continue
                        }
                        group.addTask {
                            await serve(connection, id: id)
                            table.remove(id)
                        }
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, id: ObjectIdentifier) async {
        let channel = connection.channel
        func deadline(_ seconds: Double) -> Scheduled<Void> {
            channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { channel.close(promise: nil) }
        }
        var timer = deadline(limits.requestTimeoutSeconds)
        defer { timer.cancel() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var bodyBytes = 0
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        bodyBytes = 0
                        table.setBusy(id, true)  // a request in progress: never evicted for a new connection
                    case .body(let chunk):
                        bodyBytes += chunk.readableBytes
                        guard bodyBytes <= limits.maxBodyBytes else { return }
                    case .end:
                        timer.cancel()  // the request is in: rendering is not the client's time
                        guard let request = head else { return }
                        let path = String(request.uri.prefix { $0 != "?" })
                        let response = await respond(request.method, path)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: response.contentType)
                        headers.add(name: "Content-Length", value: "\(response.body.readableBytes)")
                        for (name, value) in response.headers { headers.add(name: name, value: value) }
                        let keepAlive = request.isKeepAlive
                        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                        timer = deadline(limits.writeTimeoutSeconds)
                        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: .init(statusCode: response.status),
                                                                        headers: headers)))
                        if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(response.body))) }
                        try await outbound.write(.end(nil))
                        timer.cancel()
                        head = nil
                        if !keepAlive { return }
                        table.setBusy(id, false)
                        timer = deadline(limits.requestTimeoutSeconds)
                    }
                }
            }
        } catch {
            // A client that went away mid-request, or one cut off at a deadline.
        }
    }

    private func respond(_ method: HTTPMethod, _ path: String) async -> Response {
        guard method == .GET || method == .HEAD else { return Response(status: 405, body: "method not allowed\n") }
        if Self.isScrape(path) { return await handler(method.rawValue, path) }
        guard table.takePageSlot(max: limits.pageSlots) else {
            return Response(status: 503, body: "busy: too many page requests at once; try again\n", headers: [("Retry-After", "1")])
        }
        defer { table.releasePageSlot() }
        return await handler(method.rawValue, path)
    }
}

/// The connections held, which are idle (and since when), and the page requests in
/// progress. One lock; at most `maxConnections` entries.
final class ConnectionTable: Sendable {
    private struct Entry {
        let channel: any Channel
        var busy = false
        var idleSince: NIODeadline = .now()
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var pages = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Admits a connection: under the cap at once; at it, by closing (the caller closes
    /// `evicted`) the connection idle the longest; not at all when every one is busy.
    func admit(_ id: ObjectIdentifier, _ channel: any Channel, max: Int) -> (admitted: Bool, evicted: (any Channel)?) {
        state.withLockedValue { s in
            var evicted: (any Channel)?
            if s.entries.count >= max {
                guard let oldest = s.entries.filter({ !$0.value.busy }).min(by: { $0.value.idleSince < $1.value.idleSince }) else {
                    return (false, nil)
                }
                evicted = s.entries.removeValue(forKey: oldest.key)?.channel
            }
            s.entries[id] = Entry(channel: channel)
            return (true, evicted)
        }
    }

    func setBusy(_ id: ObjectIdentifier, _ busy: Bool) {
        state.withLockedValue { s in
            s.entries[id]?.busy = busy
            if !busy { s.entries[id]?.idleSince = .now() }
        }
    }

    func remove(_ id: ObjectIdentifier) { state.withLockedValue { _ = $0.entries.removeValue(forKey: id) } }

    func takePageSlot(max: Int) -> Bool {
        state.withLockedValue { s in
            guard s.pages < max else { return false }
            s.pages += 1
            return true
        }
    }

    func releasePageSlot() { state.withLockedValue { $0.pages -= 1 } }

    var count: Int { state.withLockedValue { $0.entries.count } }
}
