public import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A failed TCP connect, read for an admin: name resolution or the connection itself.
public enum ConnectFailure: Error, Sendable {
    case dns(reason: String)
    case connect(reason: String)

    public init(_ error: any Error, timeoutSeconds: Double) {
        if let e = error as? NIOConnectionError {
            if e.connectionErrors.isEmpty, let dns = e.dnsAError ?? e.dnsAAAAError {
                self = .dns(reason: "\(dns)")
                return
            }
            let reasons = e.connectionErrors.map { "\($0.target): \(Self.describeIO($0.error))" }
            self = .connect(reason: reasons.isEmpty ? "\(e)" : reasons.joined(separator: "; "))
        } else if let e = error as? ChannelError, case .connectTimeout = e {
            self = .connect(reason: "no TCP connection within \(formatSeconds(timeoutSeconds))")
        } else if error is SocketAddressError {
            self = .dns(reason: "\(error)")
        } else {
            self = .connect(reason: Self.describeIO(error))
        }
    }

    static func describeIO(_ error: any Error) -> String {
        if let e = error as? IOError {
            switch e.errnoCode {
            case 111: return "connection refused"
            case 113: return "no route to host"
            case 101: return "network unreachable"
            default: return e.description
            }
        }
        return "\(error)"
    }
}

/// "30s", "1.5s".
public func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s))s" : "\(s)s"
}

extension ClientChannel {
    /// One session's life on a connected channel, the same for both clients: `open`
    /// (greeting, STARTTLS, hello), `body`, then `close` (LOGOUT / QUIT, never throwing)
    /// whether or not anything failed, and every error as the protocol's own (`mapError`).
    public static func withSession<Inbound: Sendable, Outbound: Sendable, Session, T: Sendable>(
        on asyncChannel: NIOAsyncChannel<Inbound, Outbound>,
        makeSession: (NIOAsyncChannelInboundStream<Inbound>, NIOAsyncChannelOutboundWriter<Outbound>) -> Session,
        open: (Session) async throws -> Void,
        close: (Session) async -> Void,
        mapError: (Session, any Error) -> any Error,
        _ body: (Session) async throws -> T
    ) async throws -> T {
        try await asyncChannel.executeThenClose { inbound, outbound in
            let session = makeSession(inbound, outbound)
            do {
                try await open(session)
                let result = try await body(session)
                await close(session)
                return result
            } catch {
                await close(session)
                throw mapError(session, error)
            }
        }
    }
}
