public import Foundation

/// Why a probe failed, as exported in metrics (`reason` label) and stored. A server
/// without QUOTA is not a failure: that is `QuotaStatus.unsupported` in a snapshot.
public enum FailureReason: String, Sendable, Hashable, Codable, CaseIterable {
    case auth, tls, timeout, connect, dns, `protocol`
    /// The account's secret could not be read (file missing, command failed).
    case secret
}

public struct ProbeFailure: Sendable, Hashable, Codable, Error {
    public var reason: FailureReason
    /// One line, never containing a secret.
    public var message: String
    /// Worth one retry in this run (decided where the failure is classified).
    public var isTransient: Bool = false
    /// The server asked us to slow down (`[LIMIT]`).
    public var isRateLimited: Bool = false

    public init(reason: FailureReason, message: String, isTransient: Bool = false, isRateLimited: Bool = false) {
        self.reason = reason
        self.message = message
        self.isTransient = isTransient
        self.isRateLimited = isRateLimited
    }

    /// Only what is stored: the retry decision belongs to the run that made it.
    enum CodingKeys: String, CodingKey { case reason, message }
}

/// What probing one account in a run gave.
public struct AccountOutcome: Sendable, Hashable {
    public var accountID: String
    public var user: String
    public var server: String
    public var at: Date
    public var durationSeconds: Double
    public var result: Result<MailboxSnapshot, ProbeFailure>
    /// Attempts made (2 when a transient failure was retried).
    public var attempts: Int

    public init(accountID: String, user: String, server: String, at: Date, durationSeconds: Double,
                result: Result<MailboxSnapshot, ProbeFailure>, attempts: Int = 1) {
        self.accountID = accountID
        self.user = user
        self.server = server
        self.at = at
        self.durationSeconds = durationSeconds
        self.result = result
        self.attempts = attempts
    }

    public var snapshot: MailboxSnapshot? { if case .success(let s) = result { s } else { nil } }
    public var failure: ProbeFailure? { if case .failure(let f) = result { f } else { nil } }
}

/// The one version of mailgauge: `--version`, `mailgauge_build_info`, the IMAP `ID`.
public enum MailGaugeVersion {
    public static let current = "0.1.0"
}
