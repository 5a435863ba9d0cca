import ClientNetworking
public import IMAPClient
import IMAPCore
public import Logging
public import MailGaugeCore

/// Every listed user's quota over one admin session (Cyrus `cyrus_admin`): the hierarchy
/// separator from `LIST "" ""`, then `GETQUOTA "user<sep>login"` for each user, pipelined
/// in batches. One login per pass instead of one per account.
public enum BulkQuota {
    /// Users per pipelined write: bounded, so one answer's deadline covers a batch.
    static let batchSize = 500

    /// One user's reading (the value type lives beside `PassPlan`, which decides on it).
    public typealias Reading = BulkQuotaReading

    /// What a hostile or broken admin session may cost: the whole reading has one
    /// deadline (the server's timeout, plus a little per user: a Cyrus GETQUOTA takes well
    /// under a millisecond), and an answer to one GETQUOTA is at most a few responses.
    public static let secondsPerUser = 0.01
    public static let maxResponsesPerUser = 8

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// `users`: IMAP logins. The admin logs in as itself (no authorization identity).
    /// Throws on a failed session, or when the reading does not end within its deadline.
    public static func read(connection: ConnectionConfiguration, admin: Credentials, users: [String],
                            logger: Logger) async throws -> [String: Reading] {
        var connection = connection
        connection.maxResponsesPerCommand = min(connection.maxResponsesPerCommand, maxResponsesPerUser)
        let seconds = connection.timeoutSeconds + Double(users.count) * secondsPerUser
        let bounded = connection
        let outcome = await Deadline.run(seconds: seconds) { () async -> Result<[String: Reading], any Error> in
            do { return .success(try await readUnbounded(connection: bounded, admin: admin, users: users, logger: logger)) } catch {
                return .failure(error)
            }
        }
        guard let outcome else {
            throw Failure(description: "timeout: the admin session did not read \(users.count) quotas within \(formatSeconds(seconds))")
        }
        return try outcome.get()
    }

    static func readUnbounded(connection: ConnectionConfiguration, admin: Credentials, users: [String],
                              logger: Logger) async throws -> [String: Reading] {
        try await IMAPConnection.withConnection(connection, logger: logger) { imap in
            try await imap.authenticate(admin)
            var separator: Character = "."
            try await imap.execute(.list(reference: MailboxName(decoded: ""), pattern: "", returnOptions: [])) { response in
                if case .list(let l) = response, let s = l.separator { separator = s }
            }
            var readings: [String: Reading] = [:]
            var start = 0
            while start < users.count {
                let batch = Array(users[start..<min(start + batchSize, users.count)])
                start += batch.count
                let roots = batch.map { quotaRoot(of: $0, separator: separator) }
                let results = try await imap.pipeline(roots.map { .getQuota(root: $0) })
                for ((user, root), result) in zip(zip(batch, roots), results) {
                    switch result {
                    case .success(let responses):
                        readings[user] = reading(responses, root: root)
                    case .failure(.commandFailed(_, let status)) where status.kind == .no:
                        readings[user] = .refused(DisplayText.line(status.text.text))
                    case .failure(let error):
                        throw error
                    }
                }
            }
            return readings
        }
    }

    /// One GETQUOTA's answer: exactly one QUOTA response, for the root asked for. Any
    /// other shape is no reading (never another user's figures).
    static func reading(_ responses: [UntaggedResponse], root: String) -> Reading {
        var quotas: [QuotaRootUsage] = []
        for case .quota(let q) in responses {
            guard q.root == root else { return .refused("the server answered for another quota root") }
            quotas.append(QuotaRootUsage(name: q.root, resources: q.resources.map {
                ResourceUsage(resource: $0.name, usage: $0.usage, limit: $0.limit)
            }))
        }
        guard quotas.count <= 1 else { return .refused("the server answered with \(quotas.count) quotas for one root") }
        let limited = quotas.contains { !$0.resources.isEmpty }
        return .quota(limited ? .ok : .unlimited, quotas)
    }

    /// Cyrus's name for a user's quota root: `user<sep>login`. With the netnews separator
    /// ".", a "." inside the login is stored as "^" (Cyrus's unixhierarchysep rules).
    public static func quotaRoot(of login: String, separator: Character) -> String {
        let local = separator == "." ? String(login.map { $0 == "." ? "^" : $0 }) : login
        return "user\(separator)\(local)"
    }
}
