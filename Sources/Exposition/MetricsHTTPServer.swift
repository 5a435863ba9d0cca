import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server for `/metrics`, `/-/healthy` and `/-/ready`, on SwiftNIO's
/// HTTP/1 codec. Basic auth and TLS are left to a reverse proxy: bind to localhost (the
/// default) unless the network is trusted. A scrape only reads the database.
public struct MetricsHTTPServer: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String
        /// More headers (an HTML page's Content-Security-Policy).
        public var headers: [(String, String)]

        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String, headers: [(String, String)] = []) {
            self.status = status
            self.contentType = contentType
            self.body = body
            self.headers = headers
        }
    }

    public typealias Handler = @Sendable (_ method: String, _ path: String) async -> Response

    /// What one client may cost: the server is reachable by whoever can reach the port.
    public struct Limits: Sendable {
        /// Connections served at once; more are closed on accept.
        public var maxConnections = 64
        /// From connect (or the previous response) to a complete request: a client that
        /// trickles a header a byte at a time (slowloris) is cut off here.
        public var requestTimeoutSeconds: Double = 10
        /// Request body bytes accepted (a scrape sends none).
        public var maxBodyBytes = 64 * 1024

        public init() {}
    }

    let host: String
    let port: Int
    let handler: Handler
    let limits: Limits
    private let activeConnections = NIOLockedValueBox(0)

    public init(host: String, port: Int, limits: Limits = Limits(), handler: @escaping Handler) {
        self.host = host
        self.port = port
        self.limits = limits
        self.handler = handler
    }

    /// Binds, reports the bound port, then serves until the task is cancelled.
    public func run(onBound: @Sendable (Int) -> Void = { _ in }) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
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
                        let admitted = activeConnections.withLockedValue { count in
                            guard count < limits.maxConnections else { return false }
                            count += 1
                            return true
                        }
                        guard admitted else {
                            // Closed through the async wrapper: a wrapper dropped unfinished traps.
                            group.addTask { try? await connection.executeThenClose { _, _ in } }
                            continue
                        }
                        group.addTask {
                            await serve(connection)
                            activeConnections.withLockedValue { $0 -= 1 }
                        }
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let channel = connection.channel
        let timeout = TimeAmount.nanoseconds(Int64(limits.requestTimeoutSeconds * 1e9))
        func armTimer() -> Scheduled<Void> {
            channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        }
        var timer = armTimer()
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
                    case .body(let chunk):
                        bodyBytes += chunk.readableBytes
                        guard bodyBytes <= limits.maxBodyBytes else { return }
                    case .end:
                        timer.cancel()  // the request is in: rendering is not the client's time
                        guard let request = head else { return }
                        let path = String(request.uri.prefix { $0 != "?" })
                        let response: Response = switch request.method {
                        case .GET, .HEAD: await handler(request.method.rawValue, path)
                        default: Response(status: 405, body: "method not allowed\n")
                        }
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: response.contentType)
                        headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
                        for (name, value) in response.headers { headers.add(name: name, value: value) }
                        let keepAlive = request.isKeepAlive
                        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: .init(statusCode: response.status),
                                                                        headers: headers)))
                        if request.method != .HEAD {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
                        }
                        try await outbound.write(.end(nil))
                        head = nil
                        if !keepAlive { return }
                        timer.cancel()
                        timer = armTimer()
                    }
                }
            }
        } catch {
            // A client that went away mid-request: nothing to do.
        }
    }
}
