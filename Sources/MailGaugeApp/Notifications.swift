import ClientNetworking
public import Config
public import Foundation
public import Logging
import MailGaugeCore
public import Notify
import SMTPClient

/// Wiring: the config's alert channels as a `NotificationPlan`. Notify routes and
/// delivers; this only translates the config (and resolves the SMTP password lazily).
public enum Notifications {
    /// The owner's address: as configured (`owner_email`, `owners_file`, a template), or
    /// the login when it is an address. A configured value that is not an address gives none.
    static func ownerAddress(_ account: AccountConfig) -> String? {
        if let e = account.ownerEmail { return MailAddress.isPlausible(e) ? e : nil }
        return MailAddress.isPlausible(account.user) ? account.user : nil
    }

    static func notifiesOwner(_ account: AccountConfig, _ config: MailGaugeConfig) -> Bool {
        guard config.alerts.email != nil else { return false }
        return account.notifyOwner ?? (config.alerts.email?.notifyOwner ?? false || config.defaults.notifyOwner)
    }

    public static func plan(_ config: MailGaugeConfig) -> NotificationPlan {
        var owners: [String: NotificationPlan.Owner] = [:]
        for account in config.accounts where notifiesOwner(account, config) {
            guard let address = ownerAddress(account), owners[account.id] == nil else { continue }
            owners[account.id] = NotificationPlan.Owner(address: address, locale: account.locale ?? config.defaults.locale)
        }
        return NotificationPlan(
            stdout: config.alerts.stdout, email: config.alerts.email.map(email), owners: owners,
            webhooks: config.alerts.webhooks.map {
                NotificationPlan.WebhookRoute(url: $0.url, format: $0.format.format,
                                              timeoutSeconds: $0.timeoutSeconds, allowPlaintext: $0.allowPlaintext)
            },
            locale: config.defaults.locale, host: ProcessInfo.processInfo.hostName, configPath: config.path,
            alertmanagerValidForSeconds: max(3 * config.schedule.intervalSeconds, 3600), monitored: Set(config.accounts.map(\.id)))
    }

    static func email(_ email: Alerts.Email) -> NotificationPlan.Email {
        // The config refused an address it could not use (`Builder.mailAddress`); the
        // SMTP session refuses a line break in any command on top.
        NotificationPlan.Email(from: MailAddress(parsing: email.from) ?? MailAddress(HeaderEncoding.singleLine(email.from)), admins: email.to,
                               templatesDir: email.templatesDir) { () async throws(NotifyError) -> MailTransport in
            try await transport(email)
        }
    }

    static func transport(_ email: Alerts.Email) async throws(NotifyError) -> MailTransport {
        guard let smtp = email.smtp else { return .sendmail(path: email.sendmail ?? "/usr/sbin/sendmail", timeoutSeconds: 60) }
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
}

extension Notifications {
    /// `mailgauge alert test`: a test notice through every configured channel.
    public static func test(config: MailGaugeConfig, now: Date, logger: Logger) async -> [ChannelResult] {
        let first = config.accounts.first.map { (id: $0.id, user: $0.user) }
        return await OutboxDelivery.test(plan: plan(config), account: first, now: now, logger: logger)
    }
}
