public import Foundation
public import MailGaugeCore
public import SMTPClient

/// Everything notification needs to know about where notices go, resolved from the config
/// by the app: the admin email (with a lazily built transport, so its password is read only
/// when there is something to send), the owners who are notified and their addresses, and
/// the webhooks. Notify decides with it; it never reads the config itself.
public struct NotificationPlan: Sendable {
    public struct Email: Sendable {
        public var from: MailAddress
        /// The admins who get the digest (may be empty: owners only).
        public var admins: [String]
        public var templatesDir: String?
        /// Builds the SMTP or sendmail transport (resolving the SMTP password then).
        public var transport: @Sendable () async throws(NotifyError) -> MailTransport

        public init(from: MailAddress, admins: [String], templatesDir: String?,
                    transport: @escaping @Sendable () async throws(NotifyError) -> MailTransport) {
            self.from = from
            self.admins = admins
            self.templatesDir = templatesDir
            self.transport = transport
        }
    }

    /// An account whose owner gets notices, and where.
    public struct Owner: Sendable, Hashable {
        public var address: String
        public var locale: String

        public init(address: String, locale: String) {
            self.address = address
            self.locale = locale
        }
    }

    public struct WebhookRoute: Sendable, Hashable {
        public var url: String
        public var format: Webhook.Format
        public var timeoutSeconds: Double
        /// http:// allowed (`insecure_plaintext: true`); otherwise only https://.
        public var allowPlaintext: Bool

        public init(url: String, format: Webhook.Format, timeoutSeconds: Double, allowPlaintext: Bool = false) {
            self.url = url
            self.format = format
            self.timeoutSeconds = timeoutSeconds
            self.allowPlaintext = allowPlaintext
        }

        /// Its outbox channel: named by a hash of the URL, which does not reveal it (FNV-1a).
        public var channel: OutboxChannel {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in url.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            return .webhook(key: String(hash, radix: 16))
        }

        /// How it is named in logs and results: without a token in the URL.
        public var label: String { "webhook \(Webhook.redacted(url))" }
    }

    public var stdout: Bool
    public var email: Email?
    /// Account id → owner, for the accounts whose owner is notified and has an address.
    public var owners: [String: Owner]
    public var webhooks: [WebhookRoute]
    /// The digest's language.
    public var locale: String
    /// Named in the digest, so an admin knows which install wrote it.
    public var host: String
    public var configPath: String
    /// How long Alertmanager keeps a firing alert without hearing of it again.
    public var alertmanagerValidForSeconds: Double
    /// The accounts in the config now (nil: all): alerts of an account removed from it are
    /// no longer pushed, so Alertmanager lets them end.
    public var monitored: Set<String>?

    public init(stdout: Bool, email: Email?, owners: [String: Owner], webhooks: [WebhookRoute], locale: String,
                host: String, configPath: String, alertmanagerValidForSeconds: Double, monitored: Set<String>? = nil) {
        self.stdout = stdout
        self.email = email
        self.owners = owners
        self.webhooks = webhooks
        self.locale = locale
        self.host = host
        self.configPath = configPath
        self.alertmanagerValidForSeconds = alertmanagerValidForSeconds
        self.monitored = monitored
    }

    /// Which outbox channels a notice goes to.
    public func route(_ notice: Notice) -> [OutboxChannel] {
        var channels: [OutboxChannel] = []
        if let email, !email.admins.isEmpty { channels.append(.adminEmail) }
        if email != nil, notice.concernsOwner, owners[notice.accountID] != nil {
            channels.append(.ownerEmail(accountID: notice.accountID))
        }
        // Alertmanager gets every firing alert on each run anyway; only its resolutions need
        // to wait in the outbox.
        for hook in webhooks where hook.format == .json || notice.kind == .resolved { channels.append(hook.channel) }
        return channels
    }

    /// The router the store calls for each notice of a run, in the run's transaction.
    public func router(now: Date) -> @Sendable (AccountNotice) -> [OutboxItem] {
        let plan = self
        return { accountNotice in
            let notice = Notice(accountNotice, at: now)
            guard let payload = try? Notice.jsonEncoder.encode(notice) else { return [] }
            return plan.route(notice).map { OutboxItem(channel: $0, payload: payload) }
        }
    }
}

/// One channel's delivery outcome, for logs and `alert test`.
public struct ChannelResult: Sendable, Hashable {
    /// "email", "owner_email bob", "webhook http://host:port", …
    public var channel: String
    public var ok: Bool
    public var detail: String

    public init(channel: String, ok: Bool, detail: String) {
        self.channel = channel
        self.ok = ok
        self.detail = detail
    }
}
