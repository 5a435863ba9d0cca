public import Foundation
import MailGaugeCore
import Mustache

/// A rendered email body: subject, plain text, HTML.
public struct RenderedMail: Sendable, Hashable {
    public var subject: String
    public var text: String
    public var html: String
}

public enum TemplateError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalid(name: String, source: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): "template \(p): cannot read: \(r)"
        case .invalid(let n, let s, let r): "template \(n) (\(s)): \(r)"
        }
    }
}

/// Turns notices into the admin digest and owner notices with Mustache templates:
/// built in for `en` and `zh-CN`, each replaceable by a file. The words around the
/// figures (rule names, section headings, folder advice) come from a small phrase book
/// per locale, so a replacement template stays short.
public struct NoticeTexts: Sendable {
    let library: MustacheLibrary
    let timeZone: TimeZone

    /// Loads the built-in templates, then every `<templatesDir>/<locale>/<name>.mustache`
    /// over them. A broken override is an error (named by its file), not a silent fallback.
    public init(templatesDir: String? = nil, timeZone: TimeZone = .current) throws {
        var library = MustacheLibrary()
        for (locale, templates) in BuiltinTemplates.all {
            for (name, source) in templates {
                try Self.register(&library, source, name: "\(locale)/\(name)", origin: "built-in")
            }
        }
        if let dir = templatesDir {
            for locale in BuiltinTemplates.all.keys {
                for name in BuiltinTemplates.en.keys {
                    let path = "\(dir)/\(locale)/\(name).mustache"
                    guard FileManager.default.fileExists(atPath: path) else { continue }
                    let source: String
                    do {
                        source = try String(contentsOfFile: path, encoding: .utf8)
                    } catch {
                        throw TemplateError.unreadable(path: path, reason: "\(error)")
                    }
                    try Self.register(&library, source, name: "\(locale)/\(name)", origin: path)
                }
            }
        }
        self.library = library
        self.timeZone = timeZone
    }

    private static func register(_ library: inout MustacheLibrary, _ source: String, name: String, origin: String) throws {
        // Subjects and text parts must not be HTML-escaped ("&amp;" in a subject).
        let isText = !name.hasSuffix(".html")
        var text = isText ? "{{% CONTENT_TYPE: TEXT}}" + source : source
        if name.hasSuffix(".subject") { text = text.trimmingCharacters(in: .whitespacesAndNewlines) }
        do {
            library.register(try MustacheTemplate(string: text), named: name)
        } catch {
            throw TemplateError.invalid(name: name, source: origin, reason: "\(error)")
        }
    }

    /// `zh-CN`, `zh_CN`, `zh` → zh-CN; anything unknown → en.
    public static func supportedLocale(_ requested: String?) -> String {
        let r = (requested ?? "en").replacingOccurrences(of: "_", with: "-").lowercased()
        if r.hasPrefix("zh") { return "zh-CN" }
        return "en"
    }

    func render(_ name: String, locale: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: "\(locale)/\(name)") ?? ""
    }

    // MARK: - Admin digest

    /// One digest for one run: sections for new, escalated, still firing and resolved
    /// alerts, most urgent first inside each.
    public func digest(_ notices: [Notice], locale requested: String, host: String, configPath: String, now: Date) -> RenderedMail {
        let locale = Self.supportedLocale(requested)
        let p = Phrases.for(locale)
        let order: [(Notice.Kind, String)] = [(.test, p.sectionTest), (.escalated, p.sectionEscalated), (.firing, p.sectionNew),
                                               (.repeated, p.sectionRepeated), (.resolved, p.sectionResolved)]
        var sections: [[String: Any]] = []
        for (kind, heading) in order {
            let items = notices.filter { $0.kind == kind }
                .sorted { ($0.urgency, $1.accountID, $1.resource) > ($1.urgency, $0.accountID, $0.resource) }
            guard !items.isEmpty else { continue }
            sections.append(["heading": heading, "items": items.map { item($0, p) }])
        }
        let counts = order.compactMap { kind, _ -> String? in
            let n = notices.filter { $0.kind == kind }.count
            return n == 0 ? nil : p.count(n, kind)
        }
        let context: [String: Any] = [
            "summary": counts.joined(separator: ", "), "generated_at": format(now, p.dateTimeFormat),
            "host": host, "config": configPath, "sections": sections, "total": notices.count,
        ]
        return RenderedMail(subject: render("digest.subject", locale: locale, context),
                            text: render("digest.text", locale: locale, context),
                            html: render("digest.html", locale: locale, context))
    }

    private func item(_ n: Notice, _ p: Phrases) -> [String: Any] {
        var figures = ""
        if let used = n.usedBytes, let limit = n.limitBytes, limit > .zero {
            figures = p.usage(SizeFormat.size(used), SizeFormat.size(limit), SizeFormat.percent(used.doubleValue / limit.doubleValue))
        }
        var item: [String: Any] = [
            "severity": n.severity.uppercased(), "account": n.accountID, "user": n.user, "what": p.what(n),
            "who": n.user == n.accountID ? n.accountID : "\(n.accountID) (\(n.user))",
            "figures": figures, "rule": n.rule.rawValue, "resource": n.resource, "kind": n.kind.rawValue,
        ]
        if let full = n.fullAt, n.kind != .resolved { item["forecast"] = format(full, p.dateFormat) }
        if let failure = n.failure { item["failure"] = failure }
        return item
    }

    // MARK: - Owner notice

    /// The plain-language notice for the mailbox owner: usage, the forecast date, and the
    /// folders that hold the most space with what to do about each.
    public func ownerNotice(_ notices: [Notice], folders: [FolderSize], locale requested: String?) -> RenderedMail? {
        guard let main = notices.filter(\.concernsOwner).max(by: { $0.urgency < $1.urgency }) else { return nil }
        let locale = Self.supportedLocale(requested)
        let p = Phrases.for(locale)
        let used = main.usedBytes ?? .zero, limit = main.limitBytes ?? .zero
        let fraction = limit > .zero ? used.doubleValue / limit.doubleValue : (main.value ?? 0)
        let rules = Set(notices.filter(\.concernsOwner).map(\.rule))
        let worth = foldersWorthCleaning(folders)
        var context: [String: Any] = [
            "user": main.user, "account": main.accountID,
            "used": SizeFormat.size(used), "limit": SizeFormat.size(limit),
            "free": SizeFormat.bytes(limit > used ? limit.value - used.value : 0),
            "percent": SizeFormat.percent(fraction),
            "critical": rules.contains(.critical) || main.rule == .test,
            "filling": rules.contains(.filling) && !rules.contains(.critical) && !rules.contains(.warning),
            "has_folders": !worth.isEmpty,
            "folders": worth.map { f -> [String: Any] in
                ["name": DisplayText.line(f.name), "size": SizeFormat.size(f.sizeBytes), "messages": f.messages, "advice": p.advice(f.role)]
            },
        ]
        if let full = notices.compactMap(\.fullAt).min() { context["full_date"] = format(full, p.dateFormat) }
        return RenderedMail(subject: render("owner.subject", locale: locale, context),
                            text: render("owner.text", locale: locale, context),
                            html: render("owner.html", locale: locale, context))
    }

    private func format(_ date: Date, _ pattern: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = timeZone
        f.dateFormat = pattern
        return f.string(from: date)
    }
}

/// The words a locale needs around the figures.
struct Phrases: Sendable {
    var sectionNew, sectionEscalated, sectionRepeated, sectionResolved, sectionTest: String
    var dateFormat, dateTimeFormat: String
    var count: @Sendable (Int, Notice.Kind) -> String
    var what: @Sendable (Notice) -> String
    var usage: @Sendable (String, String, String) -> String
    var advice: @Sendable (FolderSize.Role) -> String

    static func `for`(_ locale: String) -> Phrases { locale == "zh-CN" ? zhCN : en }

    static let en = Phrases(
        sectionNew: "New alerts", sectionEscalated: "Escalated", sectionRepeated: "Still firing", sectionResolved: "Resolved",
        sectionTest: "Test notice",
        dateFormat: "yyyy-MM-dd", dateTimeFormat: "yyyy-MM-dd HH:mm zzz",
        count: { n, kind in
            switch kind {
            case .firing: "\(n) new"
            case .escalated: "\(n) escalated"
            case .repeated: "\(n) still firing"
            case .resolved: "\(n) resolved"
            case .test: "test notice"
            }
        },
        what: { n in
            switch n.rule {
            case .critical: "\(n.resource) usage at \(n.value.map(SizeFormat.percent) ?? "?") (critical)"
            case .warning: "\(n.resource) usage at \(n.value.map(SizeFormat.percent) ?? "?")"
            case .filling: n.value.map { "\(n.resource) full in \(SizeFormat.fixed($0 / 86400, digits: 1)) days" } ?? "\(n.resource) no longer filling fast"
            case .probeFailing: n.kind == .resolved ? "probing works again" : "probe failing \(Int(n.value ?? 0)) runs in a row"
            case .test: "test notice from mailgauge: this channel works"
            }
        },
        usage: { used, limit, pct in "\(used) of \(limit) (\(pct))" },
        advice: { role in
            switch role {
            case .trash: "Empty the Trash: its mail is already deleted."
            case .junk: "Empty Junk: it holds spam."
            case .sent: "Delete or archive old sent mail, mostly messages with large attachments."
            case .inbox: "Delete or file away old mail, largest first."
            case .other: "Delete what you no longer need, or ask IT about an archive."
            }
        })

    static let zhCN = Phrases(
        sectionNew: "新告警", sectionEscalated: "已升级", sectionRepeated: "仍在告警", sectionResolved: "已恢复", sectionTest: "测试通知",
        dateFormat: "yyyy-MM-dd", dateTimeFormat: "yyyy-MM-dd HH:mm zzz",
        count: { n, kind in
            switch kind {
            case .firing: "新增 \(n) 条"
            case .escalated: "升级 \(n) 条"
            case .repeated: "仍在告警 \(n) 条"
            case .resolved: "恢复 \(n) 条"
            case .test: "测试通知"
            }
        },
        what: { n in
            switch n.rule {
            case .critical: "\(n.resource) 用量达 \(n.value.map(SizeFormat.percent) ?? "?")（严重）"
            case .warning: "\(n.resource) 用量达 \(n.value.map(SizeFormat.percent) ?? "?")"
            case .filling: n.value.map { "\(n.resource) 预计 \(SizeFormat.fixed($0 / 86400, digits: 1)) 天后占满" } ?? "\(n.resource) 增长已放缓"
            case .probeFailing: n.kind == .resolved ? "探测已恢复正常" : "连续 \(Int(n.value ?? 0)) 次探测失败"
            default: "来自 mailgauge 的测试通知：此通道工作正常"
            }
        },
        usage: { used, limit, pct in "\(used) / \(limit)（\(pct)）" },
        advice: { role in
            switch role {
            case .trash: "清空“已删除”：其中的邮件已被删除。"
            case .junk: "清空“垃圾邮件”。"
            case .sent: "删除或归档旧的已发送邮件，尤其是带大附件的邮件。"
            case .inbox: "删除或归档旧邮件，从最大的开始。"
            case .other: "删除不再需要的邮件，或向 IT 部门咨询归档方案。"
            }
        })
}

extension NoticeTexts {
    /// One-line English texts for machine channels (Alertmanager annotations, stdout).
    public enum Plain {
        public static func summary(_ n: Notice) -> (summary: String, description: String) {
            let what = Phrases.en.what(n)
            var figures = ""
            if let used = n.usedBytes, let limit = n.limitBytes, limit > .zero {
                figures = " (" + Phrases.en.usage(SizeFormat.size(used), SizeFormat.size(limit), SizeFormat.percent(used.doubleValue / limit.doubleValue)) + ")"
            }
            var description = "\(n.accountID) (\(n.user)): \(what)\(figures)"
            if let full = n.fullAt, n.kind != .resolved {
                description += "; forecast full at \(ISO8601DateFormatter().string(from: full))"
            }
            if let failure = n.failure, n.rule == .probeFailing { description += "; last error: \(failure)" }
            return ("\(n.accountID): \(what)", description)
        }
    }
}
