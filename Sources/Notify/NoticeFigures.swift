public import MailGaugeCore

/// The one renderer of a notice's figures, used by every channel and both locales: each
/// resource in its own unit (RFC 9208): STORAGE as sizes, MESSAGE as message counts,
/// anything else as the server's count followed by the resource's name.
public enum NoticeFigures {
    /// One amount: "618 KiB", "9,620 messages", "3 MAILBOX".
    public static func amount(_ value: UInt64, resource: String, locale: DisplayLocale) -> String {
        switch resource {
        case QuotaResourceName.storage: SizeFormat.bytes(value)
        case QuotaResourceName.message: locale == .zhCN ? "\(SizeFormat.count(value)) 封邮件" : "\(SizeFormat.count(value)) \(value == 1 ? "message" : "messages")"
        default: "\(SizeFormat.count(value)) \(DisplayText.line(resource))"
        }
    }

    /// Usage against the limit: "618 KiB of 603 KiB", "9,620 of 10,000 messages";
    /// zh-CN "618 KiB / 603 KiB", "9,620 / 10,000 封邮件". With `percent`, the share
    /// follows. Nil when the figures are unknown.
    public static func usage(_ n: Notice, locale: DisplayLocale, percent: Bool = false) -> String? {
        guard let usage = n.usage, let limit = n.limit else { return nil }
        let r = n.figuresResource
        let zh = locale == .zhCN
        var text: String
        switch r {
        case QuotaResourceName.storage:
            text = zh ? "\(SizeFormat.bytes(usage)) / \(SizeFormat.bytes(limit))" : "\(SizeFormat.bytes(usage)) of \(SizeFormat.bytes(limit))"
        default:
            // The unit once, after the limit: "9,620 of 10,000 messages".
            text = zh ? "\(SizeFormat.count(usage)) / \(amount(limit, resource: r, locale: locale))"
                : "\(SizeFormat.count(usage)) of \(amount(limit, resource: r, locale: locale))"
        }
        if percent, let f = n.fraction { text += zh ? "（\(SizeFormat.percent(f))）" : " (\(SizeFormat.percent(f)))" }
        return text
    }
}
