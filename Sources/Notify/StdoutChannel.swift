import Foundation
import MailGaugeCore

/// The stdout channel: one readable line per notice, or one JSON object per line.
public enum StdoutChannel {
    public static func line(_ n: Notice, json: Bool) -> String {
        let usage = n.usedBytes == nil && n.limitBytes == nil ? nil : "\(SizeFormat.size(n.usedBytes)) of \(SizeFormat.size(n.limitBytes))"
        if json {
            let object: [String: Any] = [
                "account": n.accountID, "user": n.user, "kind": n.kind.rawValue, "rule": n.rule.rawValue,
                "resource": n.resource, "value": n.value ?? NSNull(),
                "storage_used_bytes": n.usedBytes?.value as Any? ?? NSNull(),
                "storage_limit_bytes": n.limitBytes?.value as Any? ?? NSNull(),
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        return "ALERT \(n.kind.rawValue) \(n.rule.rawValue) \(n.accountID) \(n.resource): \(value(n))" + (usage.map { " (\($0))" } ?? "")
    }

    static func value(_ n: Notice) -> String {
        switch n.rule {
        case .warning, .critical: n.value.map { SizeFormat.percent($0) } ?? ""
        case .filling: n.value.map { "full in \(SizeFormat.fixed($0 / 86400, digits: 1)) days" } ?? "no longer filling"
        case .probeFailing: n.value.map { "\(Int($0)) failed runs in a row" } ?? ""
        case .test: "test notice"
        }
    }
}
