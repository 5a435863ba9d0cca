/// The typed configuration (see the design note's YAML). Paths are absolute: relative ones
/// in the file are resolved against the config file's directory.
public struct MailGaugeConfig: Sendable {
    public var path: String
    public var database: String
    /// Accounts probed at once.
    public var concurrency: Int
    /// How long `run` waits for a previous run's lock before exiting 0 with a notice.
    public var lockWaitSeconds: Double
    /// Longest a whole probe of one account may take.
    public var accountTimeoutSeconds: Double
    public var servers: [String: ServerConfig]
    public var defaults: Defaults
    public var accounts: [AccountConfig]
    public var folders: FolderExport
    public var metrics: Metrics
    public var alerts: Alerts
    public var retention: Retention
    public var schedule: Schedule
    /// This agent's share of the accounts (nil: all); `accounts` holds only its share.
    public var shard: Shard? = nil
    /// How many accounts the config lists before sharding.
    public var listedAccountCount: Int = 0
}

/// How to log in (`auth`): SASL PLAIN when offered else LOGIN (`auto`), or one mechanism.
public enum AuthMethod: String, Sendable, Hashable, CaseIterable {
    case auto, login, plain, xoauth2, oauthbearer
}

/// How to read folder sizes (`method`); `auto` lets the server's capabilities decide.
public enum FolderMethodChoice: String, Sendable, Hashable, CaseIterable {
    case auto
    case listStatus = "list-status"
    case status, fetch
}

/// The stdout channel's line format (`alerts.stdout_format`, `run --alerts-format`).
public enum AlertLineFormat: String, Sendable, Hashable, CaseIterable {
    case text, json
}

/// A webhook's body (`alerts.webhook[].format`).
public enum WebhookFormat: String, Sendable, Hashable, CaseIterable {
    case json, alertmanager
}

public enum TLSMode: String, Sendable, Hashable, CaseIterable {
    case implicit, starttls, none
}

public struct ServerConfig: Sendable, Hashable {
    public var name: String
    public var host: String
    public var port: Int
    public var tls: TLSMode
    public var caFile: String?
    public var timeoutSeconds: Double
    /// Connections to this server at once (Dovecot's mail_max_userip_connections and
    /// login rate limits are per client IP).
    public var maxConnections: Int
    /// Folders one account may list before its probe fails (a hostile or broken server
    /// could list millions).
    public var maxFolders: Int
    /// Untagged responses one command may draw (a FETCH of sizes draws one per message).
    public var maxResponsesPerCommand: Int
    /// auto, login, plain, xoauth2, oauthbearer
    public var auth: AuthMethod
    public var method: FolderMethodChoice
    public var thresholds: ThresholdOverrides
    /// The owner address template for this server's accounts.
    public var ownerEmail: OwnerEmailTemplate? = nil
}

/// Alert thresholds that a server or an account may override.
public struct ThresholdOverrides: Sendable, Hashable {
    public var warning: Double?
    public var critical: Double?
    public var forecastHorizonSeconds: Double?
    public var minFreeBytes: UInt64?

    public init(warning: Double? = nil, critical: Double? = nil, forecastHorizonSeconds: Double? = nil, minFreeBytes: UInt64? = nil) {
        self.warning = warning
        self.critical = critical
        self.forecastHorizonSeconds = forecastHorizonSeconds
        self.minFreeBytes = minFreeBytes
    }
}

public struct Defaults: Sendable, Hashable {
    public var server: String?
    public var warning: Double
    public var critical: Double
    public var forecastHorizonSeconds: Double
    public var minFreeBytes: UInt64?
    public var locale: String
    public var notifyOwner: Bool
    /// The owner address template when nothing closer gives one.
    public var ownerEmail: OwnerEmailTemplate?
}

/// Where a secret comes from. The secret itself is read only when needed and never stored.
public enum SecretSource: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case env(String)
    case command(String)
    /// A systemd credential: `$CREDENTIALS_DIRECTORY/<name>` (LoadCredential=).
    case credential(String)

    public var description: String {
        switch self {
        case .file(let p): "file \(p)"
        case .env(let n): "environment variable \(n)"
        case .command: "password_command"
        case .credential(let n): "systemd credential \(n)"
        }
    }
}

public struct AccountConfig: Sendable, Hashable {
    /// Stable identifier: the metric label and the key in the database.
    public var id: String
    /// The mailbox owner's login.
    public var user: String
    public var server: String
    /// Who logs in: `user` itself, or a master/admin user with `user` as authzid.
    public var loginUser: String
    public var authorizationID: String?
    public var secret: SecretSource
    /// The secret is an OAuth2 token (token_file): xoauth2/oauthbearer.
    public var secretIsToken: Bool
    public var auth: AuthMethod
    public var thresholds: ThresholdOverrides
    /// Where the owner's notices go, as configured: the account's own `owner_email`
    /// (expanded when a template), else the `owners_file` entry, else the server's or the
    /// default template expanded for this login. Nil: none given (the app may still use
    /// the login when it is an address).
    public var ownerEmail: String?
    public var locale: String?
    public var notifyOwner: Bool?
    /// Where the account was defined (file:line), for messages.
    public var definedAt: String
    /// Set for accounts of a `master:` block: how the admin login reaches them.
    public var masterMode: MasterMode? = nil
    /// `master.mode: dovecot_doveadm`: where every quota is read in bulk.
    public var doveadm: DoveadmAPI? = nil
}

/// Dovecot's doveadm HTTP API (`master.doveadm`): every listed user's quota in a few
/// requests, authenticated with the API key (`doveadm_api_key` on the server).
public struct DoveadmAPI: Sendable, Hashable {
    /// e.g. https://mail.example.com:8080/doveadm/v1
    public var url: String
    public var apiKey: SecretSource
    /// nil: the IMAP server's ca_file (or the system store when it has none).
    public var caFile: String?
    /// How often every quota is read; nil: every pass (schedule.interval), so a sudden
    /// change is seen in the same pass as a fixed schedule would see it.
    public var intervalSeconds: Double?
    public var timeoutSeconds: Double
    /// `all_users` (default): one request for every user of the server, a third of the
    /// server's CPU per user; `per_user`: a command per listed user, cheaper when the list
    /// is a small part of a large server.
    public var method: Method = .allUsers
    /// `insecure_plaintext: true`: an http:// URL was asked for by name.
    public var allowPlaintext = false

    public enum Method: String, Sendable, Hashable, CaseIterable {
        case allUsers = "all_users"
        case perUser = "per_user"
    }
}

/// How a `master:` login reaches the listed mailboxes.
public enum MasterMode: String, Sendable, Hashable, CaseIterable {
    /// SASL PLAIN with the mailbox owner as authorization identity and the admin as
    /// authentication identity (Dovecot master users, Cyrus proxy admins). Its old name,
    /// `dovecot_master`, is still accepted.
    case saslAuthzid = "sasl_authzid"
    /// As `sasl_authzid` for folder probes, plus one admin session per pass reading every
    /// listed user's quota root with GETQUOTA (Cyrus IMAP): a pass sees every quota for
    /// one login; folder detail comes from the per-user probes the schedule says are due.
    case cyrusAdmin = "cyrus_admin"
    /// As `sasl_authzid` for folder probes (Dovecot master users), plus every listed
    /// user's quota read through Dovecot's doveadm HTTP API (`master.doveadm`), no IMAP
    /// login at all, every `master.doveadm.interval`.
    case dovecotDoveadm = "dovecot_doveadm"
}

public struct FolderExport: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable { case none, top, all }
    public var export: Mode
    public var topN: Int
}

public struct Metrics: Sendable, Hashable {
    public var textfile: String?
    public var listen: String
}

public struct Alerts: Sendable, Hashable {
    public var repeatIntervalSeconds: Double
    public var hysteresis: Double
    public var probeFailingRuns: Int
    public var stdout: Bool
    public var stdoutFormat: AlertLineFormat
    public var email: Email?
    public var webhooks: [Webhook]

    public struct SMTP: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var tls: TLSMode
        public var user: String?
        public var secret: SecretSource?
        public var caFile: String?
        public var timeoutSeconds: Double
    }

    public struct Email: Sendable, Hashable {
        public var smtp: SMTP?
        public var sendmail: String?
        public var from: String
        public var to: [String]
        public var notifyOwner: Bool
        public var templatesDir: String?
    }

    public struct Webhook: Sendable, Hashable {
        public var url: String
        public var format: WebhookFormat
        public var timeoutSeconds: Double
        /// `insecure_plaintext: true`: an http:// URL is allowed (the notices, and any token
        /// in the URL, cross the network readable).
        public var allowPlaintext = false
    }
}

public struct Retention: Sendable, Hashable {
    /// nil = forever
    public var rawSeconds: Double?
    public var hourlySeconds: Double?
    public var dailySeconds: Double?
}

public struct Schedule: Sendable, Hashable {
    /// The timer's (or `serve`'s) pass interval.
    public var intervalSeconds: Double
    public var policy: SchedulePolicy = .adaptive
    /// Adaptive: the longest an account goes unprobed.
    public var maxIntervalSeconds: Double = 86400
    /// Adaptive: headroom held back for a jump no history predicts, as a share of the limit.
    public var reserve: Double = 0.05
}

/// Which accounts a pass probes.
public enum SchedulePolicy: String, Sendable, Hashable, CaseIterable {
    /// Those due by their headroom and growth (see `ProbeSchedule`).
    case adaptive
    /// Every account, every pass.
    case fixed
}
