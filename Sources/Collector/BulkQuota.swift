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

    /// One user's reading.
    public enum Reading: Sendable, Hashable {
        case quota(QuotaStatus, [QuotaRootUsage])
        /// The server refused GETQUOTA for this root (NO): for Cyrus, "Quota root does not
        /// exist" — the user has no quota, or no mailbox; the per-user probe tells which.
        case refused(String)
    }

    /// `users`: IMAP logins. The admin logs in as itself (no authorization identity).
    public static func read(connection: ConnectionConfiguration, admin: Credentials, users: [String],
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
                let results = try await imap.pipeline(batch.map { .getQuota(root: quotaRoot(of: $0, separator: separator)) })
                for (user, result) in zip(batch, results) {
                    switch result {
                    case .success(let responses):
                        var roots: [QuotaRootUsage] = []
                        for case .quota(let q) in responses {
                            roots.append(QuotaRootUsage(name: q.root, resources: q.resources.map {
                                ResourceUsage(resource: $0.name, usage: $0.usage, limit: $0.limit)
                            }))
                        }
                        let limited = roots.contains { !$0.resources.isEmpty }
                        readings[user] = .quota(limited ? .ok : .unlimited, roots)
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

    /// Cyrus's name for a user's quota root: `user<sep>login`. With the netnews separator
    /// ".", a "." inside the login is stored as "^" (Cyrus's unixhierarchysep rules).
    public static func quotaRoot(of login: String, separator: Character) -> String {
        let local = separator == "." ? String(login.map { $0 == "." ? "^" : $0 }) : login
        return "user\(separator)\(local)"
    }
}
