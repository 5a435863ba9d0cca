public import Foundation
public import MailGaugeCore
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

    /// `zh-CN`, `zh_CN`, `zh` → zh-CN; anything unknown → en (`DisplayLocale`).
    public static func supportedLocale(_ requested: String?) -> DisplayLocale { DisplayLocale(requested) }

    func render(_ name: String, locale: DisplayLocale, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: "\(locale.rawValue)/\(name)") ?? ""
    }

    // MARK: - Admin digest

    /// One digest for one run: totals per state at the top (the subject says how many
    /// mailboxes are full), then one line per account with its alerts folded, most urgent
    /// accounts first; resolutions in their own section.
    public func digest(_ notices: [Notice], locale requested: String, host: String, configPath: String, now: Date) -> RenderedMail {
        let locale = Self.supportedLocale(requested)
        let p = Phrases.for(locale)
        let groups: [(heading: String, notices: [Notice])] = [
            (p.sectionTest, notices.filter { $0.kind == .test }),
            (p.sectionAlerts, notices.filter { $0.kind != .test && $0.kind != .resolved }),
            (p.sectionResolved, notices.filter { $0.kind == .resolved }),
        ]
        var sections: [[String: Any]] = []
        var totals: [String] = []
        for (index, group) in groups.enumerated() where !group.notices.isEmpty {
            let lines = Self.byAccount(group.notices)
            sections.append(["heading": group.heading, "items": lines.map { line($0, p, locale: locale) }])
            switch index {
            case 0: totals.append(p.testTotal)
            case 1:
                // Accounts per most urgent state, most urgent first.
                let states = Dictionary(grouping: lines, by: { (line: [Notice]) in line[0].rule })
                    .sorted { (a: (key: NoticeRule, value: [[Notice]]), b: (key: NoticeRule, value: [[Notice]])) in a.value[0][0].urgency > b.value[0][0].urgency }
                totals += states.map { p.total($0.value.count, $0.key) }
            default: totals.append(p.resolvedTotal(lines.count))
            }
        }
        let context: [String: Any] = [
            "summary": totals.joined(separator: p.listSeparator), "generated_at": format(now, p.dateTimeFormat),
            "host": host, "config": configPath, "sections": sections, "total": notices.count,
            "full_count": Set(notices.filter { $0.rule == .full && $0.kind != .resolved }.map(\.accountID)).count,
        ]
        return RenderedMail(subject: render("digest.subject", locale: locale, context),
                            text: render("digest.text", locale: locale, context),
                            html: render("digest.html", locale: locale, context))
    }

    /// The notices per account, each account's most urgent first; accounts by their most
    /// urgent notice, then by name.
    static func byAccount(_ notices: [Notice]) -> [[Notice]] {
        Dictionary(grouping: notices, by: \.accountID).values
            .map { $0.sorted { ($0.urgency, $1.resource) > ($1.urgency, $0.resource) } }
            .sorted { ($0[0].urgency, $1[0].accountID) > ($1[0].urgency, $0[0].accountID) }
    }

    /// One account's line: its state, then each alert with its own figures.
    private func line(_ notices: [Notice], _ p: Phrases, locale: DisplayLocale) -> [String: Any] {
        let first = notices[0]
        let fragments = notices.map { n -> String in
            var text = p.what(n)
            if let figures = NoticeFigures.usage(n, locale: locale, percent: n.rule == .filling || n.rule == .probeFailing) {
                text += " — " + figures
            }
            if let marker = p.marker(n.kind) { text += marker }
            return text
        }
        var item: [String: Any] = [
            "state": p.state(first.rule), "severity": p.state(first.rule), "account": first.accountID, "user": first.user,
            "who": first.user == first.accountID ? first.accountID : "\(first.accountID) (\(first.user))",
            "what": fragments.joined(separator: p.fragmentSeparator), "fragments": fragments.map { ["text": $0] },
            "figures": NoticeFigures.usage(first, locale: locale) ?? "", "rule": first.rule.rawValue, "resource": first.resource,
            "kind": first.kind.rawValue,
        ]
        if let full = notices.filter({ $0.kind != .resolved }).compactMap(\.fullAt).min() { item["forecast"] = format(full, p.dateFormat) }
        if let failure = notices.compactMap(\.failure).first { item["failure"] = failure }
        return item
    }

    // MARK: - Owner notice

    /// The plain-language notice for the mailbox owner: usage, the forecast date, and the
    /// folders that hold the most space (or, for a message limit, the most messages) with
    /// what to do about each.
    public func ownerNotice(_ notices: [Notice], folders: [FolderSize], locale requested: String?) -> RenderedMail? {
        guard let main = notices.filter(\.concernsOwner).max(by: { $0.urgency < $1.urgency }) else { return nil }
        let locale = Self.supportedLocale(requested)
        let p = Phrases.for(locale)
        let resource = main.figuresResource
        // A figure that could not be read or represented is "?", never a 0 that looks real.
        let fraction = main.fraction ?? (main.rule == .filling ? nil : main.value)
        let amount = { (value: UInt64?) in value.map { NoticeFigures.amount($0, resource: resource, locale: locale) } ?? "?" }
        let free: UInt64? = main.usage.flatMap { usage in main.limit.map { $0 > usage ? $0 - usage : 0 } }
        let rules = Set(notices.filter(\.concernsOwner).map(\.rule))
        let byMessages = resource == QuotaResourceName.message
        let worth = foldersWorthCleaning(folders, byMessages: byMessages)
        let full = rules.contains(.full)
        var context: [String: Any] = [
            "user": main.user, "account": main.accountID,
            "used": amount(main.usage), "limit": amount(main.limit), "free": amount(free),
            "percent": fraction.map(SizeFormat.percent) ?? "?",
            "full": full,
            "critical": full || rules.contains(.critical) || main.rule == .test,
            "filling": rules.contains(.filling) && rules.isDisjoint(with: [.full, .critical, .warning]),
            "message_limit": byMessages,
            "has_folders": !worth.isEmpty,
            "folders": worth.map { f -> [String: Any] in
                ["name": DisplayText.line(f.name), "size": SizeFormat.size(f.sizeBytes), "messages": SizeFormat.count(f.messages),
                 "advice": byMessages ? p.countAdvice(f.role) : p.advice(f.role)]
            },
        ]
        if let full = notices.compactMap(\.fullAt).min() { context["full_date"] = format(full, p.dateFormat) }
        context["headline"] = p.ownerHeadline(context)
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

extension NoticeTexts {
    /// One-line English texts for machine channels (Alertmanager annotations).
    public enum Plain {
        public static func summary(_ n: Notice) -> (summary: String, description: String) {
            let what = Phrases.en.what(n)
            let figures = NoticeFigures.usage(n, locale: .en, percent: true).map { " (\($0))" } ?? ""
            var description = "\(n.accountID) (\(n.user)): \(what)\(figures)"
            if let full = n.fullAt, n.kind != .resolved, n.rule != .full {
                description += "; forecast full at \(ISO8601DateFormatter().string(from: full))"
            }
            if let failure = n.failure, n.rule == .probeFailing { description += "; last error: \(failure)" }
            return ("\(n.accountID): \(what)", description)
        }
    }
}
