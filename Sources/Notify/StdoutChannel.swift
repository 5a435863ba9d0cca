import Foundation
import MailGaugeCore

/// The stdout channel: one readable line per notice, or one JSON object per line.
public enum StdoutChannel {
    /// A run's lines, most urgent first across accounts (a full mailbox leads), then by
    /// account in the run's order.
    public static func lines(_ notices: [Notice], json: Bool) -> [String] {
        notices.enumerated().sorted { ($0.element.urgency, $1.offset) > ($1.element.urgency, $0.offset) }.map { line($0.element, json: json) }
    }

    public static func line(_ n: Notice, json: Bool) -> String {
        if json {
            let object: [String: Any] = [
                "account": n.accountID, "user": n.user, "kind": n.kind.rawValue, "rule": n.rule.rawValue,
                "resource": n.resource, "value": n.value ?? NSNull(),
                "usage": n.usage as Any? ?? NSNull(), "limit": n.limit as Any? ?? NSNull(),
                "unit": unit(n.figuresResource), "figures_resource": n.figuresResource,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        let figures = NoticeFigures.usage(n, locale: .en).map { " (\($0))" } ?? ""
        return "ALERT \(n.kind.rawValue) \(n.rule.rawValue) \(n.accountID) \(n.resource): \(value(n))" + figures
    }

    /// What `usage` and `limit` count: bytes for STORAGE, messages for MESSAGE, else the
    /// resource's own unit.
    static func unit(_ resource: String) -> String {
        switch resource {
        case QuotaResourceName.storage: "bytes"
        case QuotaResourceName.message: "messages"
        default: resource
        }
    }

    static func value(_ n: Notice) -> String {
        switch n.rule {
        case .warning, .critical: n.value.map { SizeFormat.percent($0) } ?? ""
        case .full: (n.value.map { SizeFormat.percent($0) + ", " } ?? "") + (n.kind == .resolved ? "no longer full" : "full: new mail is refused")
        case .filling: n.value.map { "full in \(SizeFormat.fixed($0 / 86400, digits: 1)) days" } ?? "no longer filling"
        case .probeFailing: n.value.map { "\(Int($0)) failed runs in a row" } ?? ""
        case .test: "test notice"
        }
    }
}
