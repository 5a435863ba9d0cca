@testable import ClientNetworking
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The pass's shared host lookups: one per host while it runs and for its lifetime after,
/// a failure never kept.
@Suite("address cache")
struct AddressCacheTests {
    static let loopback = ResolvedAddresses(v4: [try! SocketAddress(ipAddress: "127.0.0.1", port: 993)],
                                            v6: [try! SocketAddress(ipAddress: "::1", port: 993)])

    final class Lookups: Sendable {
        let count = Mutex(0)
        let failing = Mutex(false)

        func lookup(_ host: String, _ port: Int) throws -> ResolvedAddresses {
            count.withLock { $0 += 1 }
            if failing.withLock({ $0 }) { throw AddressResolutionError(host: host, reason: "Temporary failure in name resolution") }
            return AddressCacheTests.loopback
        }
    }

    func resolve(_ cache: AddressCache, _ host: String = "imap.example") async throws -> ([SocketAddress], [SocketAddress]) {
        let resolver = cache.resolver(on: MultiThreadedEventLoopGroup.singleton.next())
        async let v6 = resolver.initiateAAAAQuery(host: host, port: 993).get()
        async let v4 = resolver.initiateAQuery(host: host, port: 993).get()
        return try await (v4, v6)
    }

    @Test("connections at once share one lookup, and later ones within its lifetime too; both families are kept")
    func shared() async throws {
        let lookups = Lookups()
        let cache = AddressCache(lifetimeSeconds: 60, lookup: lookups.lookup)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let (v4, v6) = try await resolve(cache)
                    #expect(v4 == Self.loopback.v4 && v6 == Self.loopback.v6)
                }
            }
            try await group.waitForAll()
        }
        _ = try await resolve(cache)
        #expect(lookups.count.withLock { $0 } == 1)
        _ = try await resolve(cache, "other.example")
        #expect(lookups.count.withLock { $0 } == 2, "another host is another lookup")
    }

    @Test("a failed lookup is not kept: the next connection (a retry) asks again; past its lifetime an answer is asked for again")
    func failureAndLifetime() async throws {
        let lookups = Lookups()
        lookups.failing.withLock { $0 = true }
        let cache = AddressCache(lifetimeSeconds: 60, lookup: lookups.lookup)
        await #expect(throws: AddressResolutionError.self) { try await resolve(cache) }
        // (The connection's two queries share the failed lookup, unless the second one comes
        // after it failed: then it asks again, which a loaded machine may show.)
        let afterFailure = lookups.count.withLock { $0 }
        #expect((1...2).contains(afterFailure))
        lookups.failing.withLock { $0 = false }
        _ = try await resolve(cache)
        #expect(lookups.count.withLock { $0 } == afterFailure + 1, "the failure was not kept: the next connection asked again, once")

        let shortLived = AddressCache(lifetimeSeconds: 0, lookup: lookups.lookup)
        _ = try await resolve(shortLived)
        _ = try await resolve(shortLived)
        #expect(lookups.count.withLock { $0 } >= afterFailure + 3)
    }

    @Test("the real lookup: localhost and a literal address; a name that cannot resolve is a clear error")
    func realLookup() throws {
        let localhost = try AddressCache.resolveBlocking(host: "localhost", port: 993)
        #expect((localhost.v4 + localhost.v6).allSatisfy { $0.port == 993 })
        #expect(localhost.v4.contains { $0.ipAddress == "127.0.0.1" } || localhost.v6.contains { $0.ipAddress == "::1" })
        #expect(try AddressCache.resolveBlocking(host: "192.0.2.7", port: 143).v4.map(\.ipAddress) == ["192.0.2.7"])
        // An empty label is refused by getaddrinfo itself, without asking DNS.
        #expect(throws: AddressResolutionError.self) { try AddressCache.resolveBlocking(host: "bad..name", port: 993) }
    }
}
