public import Config
public import Foundation
public import Logging
public import MailGaugeCore
public import Notify
import SMTPClient
public import Store

/// Routes alert notices to channels through the database's outbox and delivers them.
///
/// Outbox channels: `email` (the admin digest), `owner_email:<account>` (the owner's
/// notice), `webhook:<key>` (one per configured webhook; the key is a hash of the URL,
/// because webhook URLs often embed a token and the database must not hold secrets).
public enum Notifications {
    /// Undelivered notices older than this are dropped rather than sent late.
    static let maxAgeSeconds: Double = 7 * 86400

    public struct ChannelResult: Sendable {
        /// "email", "owner_email bob", "webhook http://host:port", …
        public var channel: String
        public var ok: Bool
        public var detail: String
    }

    static func notice(_ n: AccountNotice, now: Date) -> Notice {
        Notice(n, at: now)
    }

    static func webhookKey(_ hook: Alerts.Webhook) -> String {
        // FNV-1a: a stable name for the URL that does not reveal it.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in hook.url.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "webhook:" + String(hash, radix: 16)
    }

    static func ownerAddress(_ account: AccountConfig) -> String? {
        if let e = account.ownerEmail { return MailAddress.isPlausible(e) ? e : nil }
        return MailAddress.isPlausible(account.user) ? account.user : nil
    }

    static func notifiesOwner(_ account: AccountConfig, _ config: MailGaugeConfig) -> Bool {
        guard config.alerts.email != nil else { return false }
        return account.notifyOwner ?? (config.alerts.email?.notifyOwner ?? false || config.defaults.notifyOwner)
    }

    /// Which outbox channels a notice goes to.
    public static func route(_ config: MailGaugeConfig, now: Date) -> (AccountNotice) -> [OutboxItem] {
        let accounts = Dictionary(config.accounts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return { accountNotice in
            let n = notice(accountNotice, now: now)
            guard let payload = try? Notice.jsonEncoder.encode(n) else { return [] }
            var items: [OutboxItem] = []
            if let email = config.alerts.email, !email.to.isEmpty { items.append(OutboxItem(channel: "email", payload: payload)) }
            if n.concernsOwner, let account = accounts[n.accountID], notifiesOwner(account, config), ownerAddress(account) != nil {
                items.append(OutboxItem(channel: "owner_email:\(n.accountID)", payload: payload))
            }
            for hook in config.alerts.webhooks where hook.format == .json || n.kind == .resolved {
                // Alertmanager gets every firing alert on each run anyway; only its
                // resolutions need to wait in the outbox.
                items.append(OutboxItem(channel: webhookKey(hook), payload: payload))
            }
            return items
        }
    }

    static func transport(_ email: Alerts.Email) async throws(NotifyError) -> MailTransport {
        if let smtp = email.smtp {
            var password: String?
            if let source = smtp.secret {
                do {
                    password = try await Secrets.resolveAsync(source)
                } catch {
                    throw NotifyError("email: SMTP password: \(error.message)")
                }
            }
            let security: SMTPConfiguration.Security = switch smtp.tls {
            case .implicit: .implicitTLS
            case .starttls: .startTLS
            case .none: .insecurePlaintext
            }
            return .smtp(SMTPConfiguration(host: smtp.host, port: smtp.port, security: security, caFile: smtp.caFile,
                                           timeoutSeconds: smtp.timeoutSeconds, user: smtp.user, password: password))
        }
        return .sendmail(path: email.sendmail ?? "/usr/sbin/sendmail", timeoutSeconds: 60)
    }

    static func fromAddress(_ email: Alerts.Email) -> MailAddress {
        MailAddress(parsing: email.from) ?? MailAddress(email.from)
    }

    static let autoHeaders = [("Auto-Submitted", "auto-generated"), ("X-Mailer", "mailgauge")]

    /// Delivers everything in the outbox. A channel that fails keeps its notices for the
    /// next run and counts one failure; the others go on.
    public static func deliver(_ database: AppDatabase, config: MailGaugeConfig, now: Date, logger: Logger) async -> [ChannelResult] {
        do {
            let dropped = try database.dropStaleNotifications(olderThan: now.addingTimeInterval(-maxAgeSeconds))
            if dropped > 0 { logger.warning("dropped undeliverable notices older than 7 days", metadata: ["count": "\(dropped)"]) }
        } catch {
            logger.error("outbox: \(error)")
        }
        let pending: [OutboxEntry]
        let states: [String: AccountState]
        do {
            pending = try database.pendingNotifications()
            // Most runs have nothing to send: skip reading every account's state then
            // (Alertmanager alone wants the firing set on every run).
            guard !pending.isEmpty || config.alerts.webhooks.contains(where: { $0.format == .alertmanager }) else { return [] }
            states = Dictionary(try database.latestStates().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        } catch {
            logger.error("outbox: cannot read: \(error)")
            return []
        }
        var byChannel: [String: [OutboxEntry]] = [:]
        for entry in pending { byChannel[entry.channel, default: []].append(entry) }
        let recorder = Recorder(database: database, logger: logger)
        var handled = Set<String>()
        if let email = config.alerts.email {
            handled.formUnion(await deliverEmail(email, byChannel: byChannel, states: states, config: config, now: now, recorder: recorder))
        }
        handled.formUnion(await deliverWebhooks(byChannel: byChannel, states: states, config: config, now: now, recorder: recorder))

        // Notices for channels no longer configured have nowhere to go.
        let orphans = pending.filter { !handled.contains($0.channel) }
        if !orphans.isEmpty {
            logger.warning("dropping notices for channels no longer configured", metadata: ["count": "\(orphans.count)"])
            try? database.notificationsDelivered(ids: orphans.map(\.id))
        }
        return recorder.results
    }

    /// Stores each delivery's outcome in the outbox and keeps the per-channel results.
    final class Recorder: @unchecked Sendable {
        let database: AppDatabase
        let logger: Logger
        private(set) var results: [ChannelResult] = []

        init(database: AppDatabase, logger: Logger) {
            self.database = database
            self.logger = logger
        }

        func record(_ ids: [Int64], counter: String, label: String, _ outcome: Result<String, NotifyError>) {
            do {
                switch outcome {
                case .success(let detail):
                    try database.notificationsDelivered(ids: ids)
                    results.append(ChannelResult(channel: label, ok: true, detail: detail))
                case .failure(let error):
                    try database.notificationsFailed(ids: ids, counterChannel: counter, error: error.message)
                    logger.error("notification not delivered; will retry next run", metadata: ["channel": "\(label)", "error": "\(error.message)"])
                    results.append(ChannelResult(channel: label, ok: false, detail: error.message))
                }
            } catch {
                logger.error("outbox: \(error)")
            }
        }
    }

    static func decode(_ entries: [OutboxEntry]) -> [Notice] {
        entries.compactMap { try? Notice.jsonDecoder.decode(Notice.self, from: $0.payload) }
    }

    /// The admin digest and every owner notice, over one SMTP session. Returns the
    /// outbox channels it took care of.
    static func deliverEmail(_ email: Alerts.Email, byChannel: [String: [OutboxEntry]], states: [String: AccountState],
                             config: MailGaugeConfig, now: Date, recorder: Recorder) async -> Set<String> {
        var handled = Set<String>()
        let accounts = Dictionary(config.accounts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var outgoing: [(message: MailMessage, recipients: [String], ids: [Int64], counter: String, label: String)] = []
        let from = fromAddress(email)
        do {
            let texts = try NoticeTexts(templatesDir: email.templatesDir)
            if let entries = byChannel["email"] {
                handled.insert("email")
                let mail = texts.digest(decode(entries), locale: config.defaults.locale, host: ProcessInfo.processInfo.hostName,
                                        configPath: config.path, now: now)
                outgoing.append((MailMessage(from: from, to: email.to.compactMap { MailAddress(parsing: $0) }, subject: mail.subject,
                                             text: mail.text, html: mail.html, date: now, extraHeaders: autoHeaders),
                                 email.to, entries.map(\.id), "email", "email"))
            }
            for (channel, entries) in byChannel.sorted(by: { $0.key < $1.key }) where channel.hasPrefix("owner_email:") {
                let id = String(channel.dropFirst("owner_email:".count))
                guard let account = accounts[id], let address = ownerAddress(account) else { continue }
                handled.insert(channel)
                let folders = (states[id]?.folders ?? []).map {
                    FolderSize(name: $0.name, specialUse: $0.specialUse, messages: $0.messages, sizeBytes: $0.sizeBytes)
                }
                guard let mail = texts.ownerNotice(decode(entries), folders: folders, locale: account.locale ?? config.defaults.locale) else {
                    try? recorder.database.notificationsDelivered(ids: entries.map(\.id))
                    continue
                }
                outgoing.append((MailMessage(from: from, to: [MailAddress(address)], subject: mail.subject, text: mail.text,
                                             html: mail.html, date: now, extraHeaders: autoHeaders),
                                 [address], entries.map(\.id), "owner_email", "owner_email \(id)"))
            }
            if !outgoing.isEmpty {
                let outcomes = try await transport(email).send(outgoing.map { ($0.message, $0.recipients) }, logger: recorder.logger)
                for (item, outcome) in zip(outgoing, outcomes) { recorder.record(item.ids, counter: item.counter, label: item.label, outcome) }
            }
        } catch {
            let failure = (error as? NotifyError) ?? NotifyError("\(error)")
            for item in outgoing { recorder.record(item.ids, counter: item.counter, label: item.label, .failure(failure)) }
            if outgoing.isEmpty { recorder.logger.error("email templates: \(error)") }
        }
        return handled
    }

    /// Each configured webhook: the pending notices (json), or every firing alert plus
    /// the pending resolutions (alertmanager).
    static func deliverWebhooks(byChannel: [String: [OutboxEntry]], states: [String: AccountState],
                                config: MailGaugeConfig, now: Date, recorder: Recorder) async -> Set<String> {
        var handled = Set<String>()
        let validFor = max(3 * config.schedule.intervalSeconds, 3600)
        for hook in config.alerts.webhooks {
            let key = webhookKey(hook)
            handled.insert(key)
            let entries = byChannel[key] ?? []
            let label = "webhook \(Webhook.redacted(hook.url))"
            let body: Data
            do {
                if hook.format == .alertmanager {
                    let firing = try recorder.database.firingAlerts().map { alert -> Notice in
                        let state = states[alert.accountID]
                        let storage = state?.quota.first { $0.resource == QuotaResourceName.storage }
                        return Notice(accountID: alert.accountID, user: state?.user ?? alert.accountID, kind: .firing, rule: NoticeRule(alert.rule),
                                      resource: alert.resource, value: alert.value, usedBytes: storage.flatMap { ByteCount.kibibytes($0.usage) },
                                      limitBytes: storage.flatMap { ByteCount.kibibytes($0.limit) },
                                      fullAt: state?.forecasts.compactMap(\.fullAt).min(),
                                      failure: alert.rule == .probeFailing ? state?.failureMessage : nil, at: alert.since)
                    }
                    let resolved = decode(entries).filter { $0.kind == .resolved }
                    guard !firing.isEmpty || !resolved.isEmpty else { continue }
                    body = try Webhook.alertmanagerBody(firing: firing, resolved: resolved, now: now, validForSeconds: validFor)
                } else {
                    guard !entries.isEmpty else { continue }
                    body = try Webhook.jsonBody(decode(entries), now: now)
                }
            } catch {
                recorder.logger.error("webhook body: \(error)")
                continue
            }
            do {
                try await Webhook.post(url: hook.url, body: body, timeoutSeconds: hook.timeoutSeconds)
                recorder.record(entries.map(\.id), counter: "webhook", label: label, .success("HTTP 2xx"))
            } catch {
                recorder.record(entries.map(\.id), counter: "webhook", label: label, .failure(error))
            }
        }
        return handled
    }

    /// `mailgauge alert test`: one test notice through every configured channel, now,
    /// bypassing the outbox. Returns one result per channel.
    public static func test(config: MailGaugeConfig, now: Date, logger: Logger) async -> [ChannelResult] {
        var results: [ChannelResult] = []
        let probe = config.accounts.first
        let notice = Notice(accountID: probe?.id ?? "test", user: probe?.user ?? "test", kind: .test, rule: .test, resource: QuotaResourceName.storage,
                            value: nil, at: now)
        if config.alerts.stdout {
            results.append(ChannelResult(channel: "stdout", ok: true, detail: "ALERT test \(notice.accountID): test notice from mailgauge"))
        }
        if let email = config.alerts.email {
            do {
                let texts = try NoticeTexts(templatesDir: email.templatesDir)
                let mail = texts.digest([notice], locale: config.defaults.locale, host: ProcessInfo.processInfo.hostName,
                                        configPath: config.path, now: now)
                let transport = try await transport(email)
                if email.to.isEmpty {
                    results.append(ChannelResult(channel: "email", ok: false, detail: "alerts.email.to is empty: no admin to send to"))
                } else {
                    let message = MailMessage(from: fromAddress(email), to: email.to.compactMap { MailAddress(parsing: $0) },
                                              subject: mail.subject, text: mail.text, html: mail.html, date: now, extraHeaders: autoHeaders)
                    let outcome = await transport.send([(message, email.to)], logger: logger).first ?? .failure(NotifyError("not sent"))
                    switch outcome {
                    case .success(let d): results.append(ChannelResult(channel: "email", ok: true, detail: d))
                    case .failure(let e): results.append(ChannelResult(channel: "email", ok: false, detail: e.message))
                    }
                }
            } catch {
                results.append(ChannelResult(channel: "email", ok: false, detail: "\(error)"))
            }
        }
        for hook in config.alerts.webhooks {
            let label = "webhook \(Webhook.redacted(hook.url))"
            do {
                let body = hook.format == .alertmanager
                    ? try Webhook.alertmanagerBody(firing: [notice], resolved: [], now: now, validForSeconds: 300)
                    : try Webhook.jsonBody([notice], now: now)
                try await Webhook.post(url: hook.url, body: body, timeoutSeconds: hook.timeoutSeconds)
                results.append(ChannelResult(channel: label, ok: true, detail: "HTTP 2xx"))
            } catch {
                results.append(ChannelResult(channel: label, ok: false, detail: "\(error)"))
            }
        }
        return results
    }
}
