import AsyncHTTPClient
import ClientNetworking
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOFoundationCompat

/// The doveadm HTTP API's transport: every listed user's quota through `quotaGet`, in
/// batches of `DoveadmQuota.batchSize` users, over one HTTP client for the reading.
///
/// AsyncHTTPClient carries it (the package already uses it for webhooks): it hands a TLS
/// connection to a request only once the handshake has completed (it needs ALPN's answer
/// to choose the protocol), so the API key is written only on a verified channel; plain
/// http only with the config's explicit `insecure_plaintext`. Redirects are not followed
/// (the key would go where a server sends it); no proxy from the environment; each batch's
/// answer is bounded in bytes and the whole batch in time.
public enum DoveadmClient {
    public struct Endpoint: Sendable {
        public var url: String
        public var caFile: String?
        public var timeoutSeconds: Double
        public var allowPlaintext: Bool
        /// `allUsers`: one request for every user of the server, read as it streams (a
        /// third of the server's CPU per user); else `quotaGet` per listed user in batches.
        public var allUsers: Bool

        public init(url: String, caFile: String?, timeoutSeconds: Double, allowPlaintext: Bool, allUsers: Bool = true) {
            self.url = url
            self.caFile = caFile
            self.timeoutSeconds = timeoutSeconds
            self.allowPlaintext = allowPlaintext
            self.allUsers = allUsers
        }

        var clientTimeout: TimeAmount { .milliseconds(Int64(timeoutSeconds * 1000) + 1000) }

        /// scheme://host[:port], for messages.
        public var display: String { URLOrigin.display(url) }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        /// doveadm answered `allUsers` with an error of its own: per-user commands may work.
        let doveadmRefusedAllUsers: Bool
        init(_ endpoint: Endpoint, _ what: String, doveadmExitCode: Int? = nil) {
            description = "doveadm API \(endpoint.display): \(what)"
            doveadmRefusedAllUsers = doveadmExitCode != nil
        }

        static func deadlinePassed(_ endpoint: Endpoint) -> Failure {
            Failure(endpoint, "no complete answer within \(Int(endpoint.timeoutSeconds)) s")
        }
    }

    /// What a reading gave, and how it was read.
    public struct Reading: Sendable {
        public var quotas: [String: BulkQuota.Reading]
        /// Nil: as configured. Else why per-user commands were used instead of `allUsers`.
        public var fellBackToPerUser: String?
    }

    /// Each user's reading, by login; users the server did not know come back `.refused`.
    /// Throws on the first batch that fails (the reading is all or nothing per pass: a
    /// partial one would be fine, but a server failing one batch rarely serves the next).
    /// A server that refuses `allUsers` (a user database that cannot be listed) is asked
    /// per user in the same pass.
    public static func quotas(_ endpoint: Endpoint, apiKey: String, users: [String]) async throws(Failure) -> [String: BulkQuota.Reading] {
        try await read(endpoint, apiKey: apiKey, users: users).quotas
    }

    public static func read(_ endpoint: Endpoint, apiKey: String, users: [String]) async throws(Failure) -> Reading {
        guard let scheme = URLComponents(string: endpoint.url)?.scheme?.lowercased(),
              scheme == "https" || (scheme == "http" && endpoint.allowPlaintext) else {
            throw Failure(endpoint, "refusing to send the API key: the URL is not https")
        }
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            // AsyncHTTPClient's own timers a second past the deadline that bounds each
            // request whole (`Deadline.run`), so a stalled server always reads the same way.
            timeout: .init(connect: endpoint.clientTimeout, read: endpoint.clientTimeout),
            decompression: .disabled)
        do {
            configuration.tlsConfiguration = try ClientTLS.configuration(caFile: endpoint.caFile)
        } catch {
            throw Failure(endpoint, error.description)
        }
        configuration.httpVersion = .http1Only
        configuration.proxy = nil
        // A failed connect or handshake is the answer (e.g. a certificate that does not
        // verify): not retried until the deadline, which would hide the reason.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let authorization = "X-Dovecot-API " + Data(apiKey.utf8).base64EncodedString()
        var result: Result<Reading, Failure>
        if endpoint.allUsers {
            result = await allUsers(client, endpoint, authorization: authorization, users: users)
            if case .failure(let failure) = result, failure.doveadmRefusedAllUsers {
                result = await batches(client, endpoint, authorization: authorization, users: users)
                    .map { Reading(quotas: $0, fellBackToPerUser: failure.description) }
            }
        } else {
            result = await batches(client, endpoint, authorization: authorization, users: users).map { Reading(quotas: $0) }
        }
        try? await client.shutdown()
        return try result.get()
    }

    /// One `allUsers` request, read as it streams, within the deadline.
    static func allUsers(_ client: HTTPClient, _ endpoint: Endpoint, authorization: String, users: [String]) async -> Result<Reading, Failure> {
        let result = await Deadline.run(seconds: endpoint.timeoutSeconds) { () async -> Result<Reading, Failure> in
            var reader = DoveadmQuota.AllUsersReader(users: Set(users))
            do {
                let response = try await client.execute(request(endpoint, authorization: authorization, body: DoveadmQuota.allUsersRequestBody()),
                                                        timeout: endpoint.clientTimeout)
                try check(response.status.code, endpoint)
                for try await chunk in response.body { try reader.consume(chunk.readableBytesView) }
                return .success(Reading(quotas: try reader.finish()))
            } catch let error as DoveadmQuota.ResponseError {
                return .failure(Failure(endpoint, error.description, doveadmExitCode: error.doveadmExitCode))
            } catch let failure as Failure {
                return .failure(failure)
            } catch {
                return .failure(Failure(endpoint, describe(error)))
            }
        }
        return result ?? .failure(.deadlinePassed(endpoint))
    }

    static func request(_ endpoint: Endpoint, authorization: String, body: Data) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "mailgauge")
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    static func check(_ status: UInt, _ endpoint: Endpoint) throws(Failure) {
        switch status {
        case 200: return
        case 401, 403: throw Failure(endpoint, "the API key was refused (HTTP \(status))")
        default: throw Failure(endpoint, "HTTP \(status)")
        }
    }

    static func batches(_ client: HTTPClient, _ endpoint: Endpoint, authorization: String,
                        users: [String]) async -> Result<[String: BulkQuota.Reading], Failure> {
        var readings: [String: BulkQuota.Reading] = [:]
        readings.reserveCapacity(users.count)
        var start = 0
        while start < users.count {
            let batch = Array(users[start..<min(start + DoveadmQuota.batchSize, users.count)])
            start += batch.count
            let result = await Deadline.run(seconds: endpoint.timeoutSeconds) { () async -> Result<[String: BulkQuota.Reading], Failure> in
                do throws(Failure) {
                    return .success(try await post(client, endpoint, authorization: authorization, users: batch))
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .success(let batchReadings)?: readings.merge(batchReadings) { a, _ in a }
            case .failure(let failure)?: return .failure(failure)
            case nil: return .failure(.deadlinePassed(endpoint))
            }
        }
        return .success(readings)
    }

    static func post(_ client: HTTPClient, _ endpoint: Endpoint, authorization: String,
                     users: [String]) async throws(Failure) -> [String: BulkQuota.Reading] {
        let body: ByteBuffer
        do {
            let response = try await client.execute(request(endpoint, authorization: authorization, body: DoveadmQuota.requestBody(users: users)),
                                                    timeout: endpoint.clientTimeout)
            try check(response.status.code, endpoint)
            body = try await response.body.collect(upTo: DoveadmQuota.maxResponseBytes(users: users.count))
        } catch let failure as Failure {
            throw failure
        } catch is NIOTooManyBytesError {
            throw Failure(endpoint, "answer larger than \(DoveadmQuota.maxResponseBytes(users: users.count)) bytes for \(users.count) users")
        } catch {
            throw Failure(endpoint, describe(error))
        }
        do throws(DoveadmQuota.ResponseError) {
            return try DoveadmQuota.readings(Data(body.readableBytesView), users: users)
        } catch {
            throw Failure(endpoint, error.description)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            if e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout { return "timed out" }
            if e == .remoteConnectionClosed { return "the server closed the connection" }
            return "\(e)"
        }
        if let e = error as? HTTPParserError, e == .invalidEOFState { return "the connection ended before the answer did" }
        if let e = error as? NIOSSLError {
            switch TLSFailure(e) {
            case .certificateNotTrusted:
                return "TLS: certificate verify failed: the server's certificate is not signed by a trusted CA (system store, or master.doveadm.ca_file)"
            case .notTLS: return "TLS: the server did not answer with TLS (is the doveadm listener `ssl = yes`?)"
            case .versionTooOld: return "TLS: the server offers only TLS older than 1.2"
            case .closedDuringHandshake: return "TLS: connection closed during the handshake"
            case .other(let text): return "TLS: handshake failed: \(text)"
            }
        }
        if let e = error as? BoringSSLError { return "TLS: \(e)" }
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }
}
