/// The languages mailgauge speaks to people in (notices, pages): one value, read once
/// from a config or owner setting, so "is this Chinese" is never a string compare again.
public enum DisplayLocale: String, Sendable, Hashable, CaseIterable {
    case en
    case zhCN = "zh-CN"

    /// `zh-CN`, `zh_CN`, `zh`, `zh-Hans` → zh-CN; anything else (or nothing) → en.
    public init(_ tag: String?) {
        let t = String((tag ?? "en").lowercased().map { $0 == "_" ? "-" : $0 })
        self = t == "zh" || t.hasPrefix("zh-") ? .zhCN : .en
    }
}
