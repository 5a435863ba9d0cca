// getaddrinfo and its constants as glibc declares them (mailgauge ships for Debian).
import Glibc
import NIOCore
import NIOPosix
import Synchronization

/// A server's addresses, resolved once and shared by the pass's connections to it.
///
/// NIO resolves the host again for every connection: `getaddrinfo` on a dispatch thread
/// (reading /etc/hosts, resolv.conf and gai.conf each time), its answer handed back to the
/// event loop. At thousands of connections to one server that was a tenth of the client's
/// CPU. Here the first connection's lookup is shared by all that come while it runs and
/// for `lifetimeSeconds` after it succeeds; a failed lookup is not kept, so the next
/// connection (a retry) asks again. Every address of both families is kept, in
/// `getaddrinfo`'s order, so NIO's Happy Eyeballs still tries each of them.
public final class AddressCache: Sendable {
    /// How long a successful lookup is used: short against a pass of thousands of
    /// connections, long against one connection's life. A server moved by DNS during a
    /// pass is followed within this.
    public let lifetimeSeconds: Double
    private let lifetime: TimeAmount
    private let entries = Mutex<[Key: Entry]>([:])

    struct Key: Hashable {
        let host: String
        let port: Int
    }

    struct Entry {
        let generation: UInt64
        let started: NIODeadline
        let lookup: EventLoopPromise<ResolvedAddresses>
    }

    private let lookup: @Sendable (String, Int) throws -> ResolvedAddresses

    public convenience init(lifetimeSeconds: Double = 60) {
        self.init(lifetimeSeconds: lifetimeSeconds) { host, port in try Self.resolveBlocking(host: host, port: port) }
    }

    /// `lookup`: the blocking resolution (tests count and fail it).
    init(lifetimeSeconds: Double, lookup: @escaping @Sendable (String, Int) throws -> ResolvedAddresses) {
        self.lifetimeSeconds = lifetimeSeconds
        self.lifetime = .nanoseconds(Int64(max(0, min(lifetimeSeconds, 86_400)) * 1e9))
        self.lookup = lookup
    }

    /// A resolver for one connection on `loop` (NIO asks it for AAAA, then A).
    func resolver(on loop: any EventLoop) -> some Resolver & Sendable {
        CachedResolver(cache: self, loop: loop)
    }

    func addresses(host: String, port: Int, on loop: any EventLoop) -> EventLoopFuture<ResolvedAddresses> {
        let key = Key(host: host, port: port)
        let now = NIODeadline.now()
        let (entry, isNew) = entries.withLock { entries -> (Entry, Bool) in
            if let entry = entries[key], entry.started + lifetime > now { return (entry, false) }
            let entry = Entry(generation: (entries[key]?.generation ?? 0) &+ 1, started: now,
                              lookup: loop.makePromise(of: ResolvedAddresses.self))
            entries[key] = entry
            return (entry, true)
        }
        if isNew {
            // The lookup blocks: on NIO's thread pool, never on the loop.
            let lookup = NIOThreadPool.singleton.runIfActive(eventLoop: loop) { [lookup] in try lookup(host, port) }
            lookup.whenFailure { _ in
                self.entries.withLock { entries in
                    if entries[key]?.generation == entry.generation { entries[key] = nil }
                }
            }
            lookup.cascade(to: entry.lookup)
        }
        return entry.lookup.futureResult.hop(to: loop)
    }

    static func resolveBlocking(host: String, port: Int) throws(AddressResolutionError) -> ResolvedAddresses {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0 else {
            throw AddressResolutionError(host: host, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        var resolved = ResolvedAddresses()
        var next = list
        while let info = next {
            if let address = info.pointee.ai_addr {
                switch info.pointee.ai_family {
                case AF_INET:
                    resolved.v4.append(SocketAddress(UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self), host: host))
                case AF_INET6:
                    resolved.v6.append(SocketAddress(UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self), host: host))
                default:
                    break  // not a family a TCP connect can use
                }
            }
            next = info.pointee.ai_next
        }
        guard !resolved.v4.isEmpty || !resolved.v6.isEmpty else {
            throw AddressResolutionError(host: host, reason: "no IPv4 or IPv6 address")
        }
        return resolved
    }
}

/// Both families of a host's addresses, in the resolver's order.
struct ResolvedAddresses: Sendable {
    var v4: [SocketAddress] = []
    var v6: [SocketAddress] = []
}

/// `getaddrinfo` failed, or named no address TCP can use.
public struct AddressResolutionError: Error, Sendable, CustomStringConvertible {
    public let host: String
    public let reason: String

    public var description: String { reason }
}

/// One connection's view of the cache, as NIO's Happy Eyeballs connector asks it.
struct CachedResolver: Resolver, Sendable {
    let cache: AddressCache
    let loop: any EventLoop

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        cache.addresses(host: host, port: port, on: loop).map(\.v4)
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        cache.addresses(host: host, port: port, on: loop).map(\.v6)
    }

    /// A lookup in flight is shared with other connections: it runs to its end.
    func cancelQueries() {}
}
