public import Foundation
public import Logging
public import MailGaugeCore
import SMTPClient

/// Delivers the outbox: every queued notice to its channel, the admin digest and owner
/// notices over one mail session, webhooks one by one. A channel that fails keeps its
/// notices for the next run and counts one failure; the others go on.
public enum OutboxDelivery {
    /// Undelivered notices older than this are dropped rather than sent late.
    public static let maxAgeSeconds: Double = 7 * 86400

    static let autoHeaders = [("Auto-Submitted", "auto-generated"), ("X-Mailer", "mailgauge")]

    /// A rendered notice as mail from mailgauge to `to`.
    static func message(_ mail: RenderedMail, from: MailAddress, to: [MailAddress], now: Date) -> MailMessage {
        MailMessage(from: from, to: to, subject: mail.subject, text: mail.text, html: mail.html, date: now, extraHeaders: autoHeaders)
    }

    public static func deliver(_ outbox: any NotificationOutbox, plan: NotificationPlan, now: Date, logger: Logger) async -> [ChannelResult] {
        do {
            let dropped = try outbox.dropStaleNotifications(olderThan: now.addingTimeInterval(-maxAgeSeconds))
            if dropped > 0 { logger.warning("dropped undeliverable notices older than 7 days", metadata: ["count": "\(dropped)"]) }
        } catch {
            logger.error("outbox: \(error)")
        }
        let pending: [OutboxEntry]
        let states: [String: AccountState]
        do {
            pending = try outbox.pendingNotifications()
            // Most runs have nothing to send: skip reading every account's state then
            // (Alertmanager alone wants the firing set on every run).
            guard !pending.isEmpty || plan.webhooks.contains(where: { $0.format == .alertmanager }) else { return [] }
            states = Dictionary(try outbox.latestStates().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        } catch {
            logger.error("outbox: cannot read: \(error)")
            return []
        }
        let byChannel = Dictionary(grouping: pending, by: \.channel)
        let recorder = Recorder(outbox: outbox, logger: logger)
        var handled = Set<OutboxChannel>()
        if let email = plan.email {
            handled.formUnion(await deliverEmail(email, plan: plan, byChannel: byChannel, states: states, now: now, recorder: recorder))
        }
        handled.formUnion(await deliverWebhooks(plan: plan, byChannel: byChannel, states: states, now: now, recorder: recorder))

        // Notices for channels no longer configured have nowhere to go.
        let orphans = pending.filter { !handled.contains($0.channel) }
        if !orphans.isEmpty {
            logger.warning("dropping notices for channels no longer configured", metadata: ["count": "\(orphans.count)"])
            try? outbox.notificationsDelivered(ids: orphans.map(\.id))
        }
        return recorder.results
    }

    /// Stores each delivery's outcome in the outbox and keeps the per-channel results.
    final class Recorder: @unchecked Sendable {
        let outbox: any NotificationOutbox
        let logger: Logger
        private(set) var results: [ChannelResult] = []

        init(outbox: any NotificationOutbox, logger: Logger) {
            self.outbox = outbox
            self.logger = logger
        }

        func record(_ ids: [Int64], channel: OutboxChannel, label: String, _ outcome: Result<String, NotifyError>) {
            do {
                switch outcome {
                case .success(let detail):
                    try outbox.notificationsDelivered(ids: ids)
                    results.append(ChannelResult(channel: label, ok: true, detail: detail))
                case .failure(let error):
                    try outbox.notificationsFailed(ids: ids, counterChannel: channel.counterLabel, error: error.message)
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

    /// The admin digest and every owner notice, over one mail session. Returns the outbox
    /// channels it took care of.
    static func deliverEmail(_ email: NotificationPlan.Email, plan: NotificationPlan, byChannel: [OutboxChannel: [OutboxEntry]],
                             states: [String: AccountState], now: Date, recorder: Recorder) async -> Set<OutboxChannel> {
        var handled = Set<OutboxChannel>()
        var outgoing: [(message: MailMessage, recipients: [String], ids: [Int64], channel: OutboxChannel, label: String)] = []
        do {
            let texts = try NoticeTexts(templatesDir: email.templatesDir)
            if let entries = byChannel[.adminEmail] {
                handled.insert(.adminEmail)
                let mail = texts.digest(decode(entries), locale: plan.locale, host: plan.host, configPath: plan.configPath, now: now)
                outgoing.append((message(mail, from: email.from, to: email.admins.compactMap { MailAddress(parsing: $0) }, now: now),
                                 email.admins, entries.map(\.id), .adminEmail, "email"))
            }
            for (channel, entries) in byChannel.sorted(by: { $0.key < $1.key }) {
                guard case .ownerEmail(let id) = channel, let owner = plan.owners[id] else { continue }
                handled.insert(channel)
                let folders = (states[id]?.folders ?? []).map {
                    FolderSize(name: $0.name, specialUse: $0.specialUse, messages: $0.messages, sizeBytes: $0.sizeBytes)
                }
                guard let mail = texts.ownerNotice(decode(entries), folders: folders, locale: owner.locale) else {
                    try? recorder.outbox.notificationsDelivered(ids: entries.map(\.id))
                    continue
                }
                outgoing.append((message(mail, from: email.from, to: [MailAddress(owner.address)], now: now),
                                 [owner.address], entries.map(\.id), channel, "owner_email \(id)"))
            }
            if !outgoing.isEmpty {
                let outcomes = try await email.transport().send(outgoing.map { ($0.message, $0.recipients) }, logger: recorder.logger)
                for (item, outcome) in zip(outgoing, outcomes) { recorder.record(item.ids, channel: item.channel, label: item.label, outcome) }
            }
        } catch {
            let failure = (error as? NotifyError) ?? NotifyError("\(error)")
            for item in outgoing { recorder.record(item.ids, channel: item.channel, label: item.label, .failure(failure)) }
            if outgoing.isEmpty { recorder.logger.error("email templates: \(error)") }
        }
        return handled
    }

    /// Each configured webhook: the pending notices (json), or every firing alert plus
    /// the pending resolutions (alertmanager).
    static func deliverWebhooks(plan: NotificationPlan, byChannel: [OutboxChannel: [OutboxEntry]], states: [String: AccountState],
                                now: Date, recorder: Recorder) async -> Set<OutboxChannel> {
        var handled = Set<OutboxChannel>()
        for hook in plan.webhooks {
            let channel = hook.channel
            handled.insert(channel)
            let entries = byChannel[channel] ?? []
            let body: Data
            do {
                if hook.format == .alertmanager {
                    let firing = try recorder.outbox.firingAlerts().filter { plan.monitored?.contains($0.accountID) ?? true }
                        .map { Notice(firing: $0, state: states[$0.accountID]) }
                    let resolved = decode(entries).filter { $0.kind == .resolved }
                    guard !firing.isEmpty || !resolved.isEmpty else { continue }
                    body = try Webhook.alertmanagerBody(firing: firing, resolved: resolved, now: now, validForSeconds: plan.alertmanagerValidForSeconds)
                } else {
                    guard !entries.isEmpty else { continue }
                    body = try Webhook.jsonBody(decode(entries), now: now)
                }
            } catch {
                recorder.logger.error("webhook body: \(error)")
                continue
            }
            do {
                try await Webhook.post(hook, body: body)
                recorder.record(entries.map(\.id), channel: channel, label: hook.label, .success("HTTP 2xx"))
            } catch {
                recorder.record(entries.map(\.id), channel: channel, label: hook.label, .failure(error))
            }
        }
        return handled
    }

    /// `mailgauge alert test`: one test notice through every configured channel, now,
    /// bypassing the outbox. Returns one result per channel.
    public static func test(plan: NotificationPlan, account: (id: String, user: String)?, now: Date, logger: Logger) async -> [ChannelResult] {
        var results: [ChannelResult] = []
        let notice = Notice(accountID: account?.id ?? "test", user: account?.user ?? "test", kind: .test, rule: .test,
                            resource: QuotaResourceName.storage, value: nil, at: now)
        if plan.stdout {
            results.append(ChannelResult(channel: "stdout", ok: true, detail: "ALERT test \(notice.accountID): test notice from mailgauge"))
        }
        if let email = plan.email {
            do {
                let texts = try NoticeTexts(templatesDir: email.templatesDir)
                let mail = texts.digest([notice], locale: plan.locale, host: plan.host, configPath: plan.configPath, now: now)
                let transport = try await email.transport()
                if email.admins.isEmpty {
                    results.append(ChannelResult(channel: "email", ok: false, detail: "alerts.email.to is empty: no admin to send to"))
                } else {
                    let test = message(mail, from: email.from, to: email.admins.compactMap { MailAddress(parsing: $0) }, now: now)
                    let outcome = await transport.send([(test, email.admins)], logger: logger).first ?? .failure(NotifyError("not sent"))
                    switch outcome {
                    case .success(let d): results.append(ChannelResult(channel: "email", ok: true, detail: d))
                    case .failure(let e): results.append(ChannelResult(channel: "email", ok: false, detail: e.message))
                    }
                }
            } catch {
                results.append(ChannelResult(channel: "email", ok: false, detail: "\(error)"))
            }
        }
        for hook in plan.webhooks {
            do {
                let body = hook.format == .alertmanager
                    ? try Webhook.alertmanagerBody(firing: [notice], resolved: [], now: now, validForSeconds: 300)
                    : try Webhook.jsonBody([notice], now: now)
                try await Webhook.post(hook, body: body)
                results.append(ChannelResult(channel: hook.label, ok: true, detail: "HTTP 2xx"))
            } catch {
                results.append(ChannelResult(channel: hook.label, ok: false, detail: "\(error)"))
            }
        }
        return results
    }
}

extension Notice {
    /// A firing alert as Alertmanager is told of it on every run, with the account's
    /// current figures.
    init(firing alert: FiringAlert, state: AccountState?) {
        let quota = state?.fullestQuota(alert.key.resource ?? QuotaResourceName.storage)
        self.init(accountID: alert.accountID, user: state?.user ?? alert.accountID, kind: .firing, rule: NoticeRule(alert.key.rule),
                  resource: alert.key.subject, value: alert.value, usage: quota.flatMap { Quantity.baseUnits($0.usage, resource: $0.resource) },
                  limit: quota.flatMap { Quantity.baseUnits($0.limit, resource: $0.resource) }, figuresResource: quota?.resource,
                  fullAt: state.flatMap { AlertEvaluation.fullAt(alert.key, AlertRules.Observation($0)) },
                  failure: alert.key.rule == .probeFailing ? state?.failureMessage : nil, at: alert.since)
    }
}
