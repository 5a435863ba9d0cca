import Foundation
import MailGaugeCore

/// The words a locale needs around the figures.
struct Phrases: Sendable {
    var sectionAlerts, sectionResolved, sectionTest: String
    var dateFormat, dateTimeFormat: String
    var listSeparator, fragmentSeparator: String
    var testTotal: String
    var total: @Sendable (Int, NoticeRule) -> String
    var resolvedTotal: @Sendable (Int) -> String
    var state: @Sendable (NoticeRule) -> String
    var marker: @Sendable (Notice.Kind) -> String?
    var what: @Sendable (Notice) -> String
    var advice: @Sendable (FolderSize.Role) -> String
    /// For a message limit: fewer messages, not fewer bytes.
    var countAdvice: @Sendable (FolderSize.Role) -> String
    /// The owner notice's first paragraph, from its context.
    var ownerHeadline: @Sendable ([String: Any]) -> String

    static func `for`(_ locale: DisplayLocale) -> Phrases {
        switch locale {
        case .en: en
        case .zhCN: zhCN
        }
    }

    static let en = Phrases(
        sectionAlerts: "Alerts", sectionResolved: "Resolved", sectionTest: "Test notice",
        dateFormat: "yyyy-MM-dd", dateTimeFormat: "yyyy-MM-dd HH:mm zzz", listSeparator: ", ", fragmentSeparator: "; ",
        testTotal: "test notice",
        total: { n, rule in
            switch rule {
            case .full: n == 1 ? "1 mailbox full" : "\(n) mailboxes full"
            case .critical: "\(n) critical"
            case .warning: "\(n) warning"
            case .filling: "\(n) filling"
            case .probeFailing: "\(n) probe failing"
            case .test: "test notice"
            }
        },
        resolvedTotal: { "\($0) resolved" },
        state: { rule in
            switch rule {
            case .full: "FULL"
            case .critical: "CRITICAL"
            case .warning: "WARNING"
            case .filling: "FILLING"
            case .probeFailing: "PROBE FAILING"
            case .test: "INFO"
            }
        },
        marker: { kind in
            switch kind {
            case .firing: " (new)"
            case .escalated: " (escalated)"
            default: nil
            }
        },
        what: { n in
            let pct = n.value.map(SizeFormat.percent) ?? "?"
            switch n.rule {
            case .full: return n.kind == .resolved ? "\(n.resource) no longer full (\(pct))" : "\(n.resource) full: new mail is refused"
            case .critical: return "\(n.resource) usage at \(pct) (critical)"
            case .warning: return "\(n.resource) usage at \(pct)"
            case .filling: return n.value.map { "\(n.resource) full in \(SizeFormat.fixed($0 / 86400, digits: 1)) days" } ?? "\(n.resource) no longer filling fast"
            case .probeFailing: return n.kind == .resolved ? "probing works again" : "probe failing \(Int(n.value ?? 0)) runs in a row"
            case .test: return "test notice from mailgauge: this channel works"
            }
        },
        advice: { role in
            switch role {
            case .trash: "Empty the Trash: its mail is already deleted."
            case .junk: "Empty Junk: it holds spam."
            case .sent: "Delete or archive old sent mail, mostly messages with large attachments."
            case .inbox: "Delete or file away old mail, largest first."
            case .other: "Delete what you no longer need, or ask IT about an archive."
            }
        },
        countAdvice: { role in
            switch role {
            case .trash: "Empty the Trash: every message in it still counts."
            case .junk: "Empty Junk: it holds spam, and each message counts."
            case .sent: "Delete old sent messages you do not need to keep."
            case .inbox: "Archive or delete old threads: many small messages add up."
            case .other: "Archive old threads, or delete what you no longer need."
            }
        },
        ownerHeadline: { c in
            let used = c["used"] as? String ?? "", limit = c["limit"] as? String ?? "", pct = c["percent"] as? String ?? ""
            let amounts = (c["message_limit"] as? Bool ?? false) ? "It holds \(used) of the \(limit) allowed (\(pct))." : "\(used) of \(limit) (\(pct)) is in use."
            if c["full"] as? Bool ?? false {
                return "Your mailbox is full: new mail to you is being refused and returned to the sender. \(amounts)"
            }
            if c["critical"] as? Bool ?? false {
                return "Your mailbox is almost full: \(amounts) When it is full, new mail to you is rejected and returned to the sender."
            }
            if c["filling"] as? Bool ?? false, let date = c["full_date"] as? String {
                return "At the rate it has been growing, your mailbox will be full around \(date). \(amounts)"
            }
            return "Your mailbox is getting full: \(amounts)"
        })

    static let zhCN = Phrases(
        sectionAlerts: "告警", sectionResolved: "已恢复", sectionTest: "测试通知",
        dateFormat: "yyyy-MM-dd", dateTimeFormat: "yyyy-MM-dd HH:mm zzz", listSeparator: "，", fragmentSeparator: "；",
        testTotal: "测试通知",
        total: { n, rule in
            switch rule {
            case .full: "\(n) 个邮箱已满"
            case .critical: "\(n) 个严重"
            case .warning: "\(n) 个警告"
            case .filling: "\(n) 个即将占满"
            case .probeFailing: "\(n) 个探测失败"
            case .test: "测试通知"
            }
        },
        resolvedTotal: { "\($0) 个已恢复" },
        state: { rule in
            switch rule {
            case .full: "已满"
            case .critical: "严重"
            case .warning: "警告"
            case .filling: "即将占满"
            case .probeFailing: "探测失败"
            case .test: "测试"
            }
        },
        marker: { kind in
            switch kind {
            case .firing: "（新）"
            case .escalated: "（已升级）"
            default: nil
            }
        },
        what: { n in
            let pct = n.value.map(SizeFormat.percent) ?? "?"
            switch n.rule {
            case .full: return n.kind == .resolved ? "\(n.resource) 已不再满（\(pct)）" : "\(n.resource) 已满：新邮件被拒收"
            case .critical: return "\(n.resource) 用量达 \(pct)（严重）"
            case .warning: return "\(n.resource) 用量达 \(pct)"
            case .filling: return n.value.map { "\(n.resource) 预计 \(SizeFormat.fixed($0 / 86400, digits: 1)) 天后占满" } ?? "\(n.resource) 增长已放缓"
            case .probeFailing: return n.kind == .resolved ? "探测已恢复正常" : "连续 \(Int(n.value ?? 0)) 次探测失败"
            case .test: return "来自 mailgauge 的测试通知：此通道工作正常"
            }
        },
        advice: { role in
            switch role {
            case .trash: "清空“已删除”：其中的邮件已被删除。"
            case .junk: "清空“垃圾邮件”。"
            case .sent: "删除或归档旧的已发送邮件，尤其是带大附件的邮件。"
            case .inbox: "删除或归档旧邮件，从最大的开始。"
            case .other: "删除不再需要的邮件，或向 IT 部门咨询归档方案。"
            }
        },
        countAdvice: { role in
            switch role {
            case .trash: "清空“已删除”：其中每封邮件仍计入限额。"
            case .junk: "清空“垃圾邮件”：每封都计入限额。"
            case .sent: "删除不需要保留的旧已发送邮件。"
            case .inbox: "归档或删除旧的会话：大量小邮件会累积占满限额。"
            case .other: "归档旧的会话，或删除不再需要的邮件。"
            }
        },
        ownerHeadline: { c in
            let used = c["used"] as? String ?? "", limit = c["limit"] as? String ?? "", pct = c["percent"] as? String ?? ""
            let amounts = (c["message_limit"] as? Bool ?? false) ? "目前有 \(used)，上限 \(limit)（\(pct)）。" : "已使用 \(used)，共 \(limit)（\(pct)）。"
            if c["full"] as? Bool ?? false { return "您的邮箱已满：发给您的新邮件正被拒收并退回给发件人。\(amounts)" }
            if c["critical"] as? Bool ?? false { return "您的邮箱即将占满：\(amounts)邮箱满后，发给您的新邮件将被拒收并退回给发件人。" }
            if c["filling"] as? Bool ?? false, let date = c["full_date"] as? String {
                return "按近期的增长速度，您的邮箱预计将于 \(date) 前后占满。\(amounts)"
            }
            return "您的邮箱空间即将不足：\(amounts)"
        })
}
