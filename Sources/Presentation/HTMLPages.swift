public import Foundation
public import MailGaugeCore

/// The HTML views of the stored state (pure): the fleet overview, one account's page, and
/// the self-contained report file that holds both. Inline CSS and SVG and one small inline
/// script (table sorting); nothing is loaded from elsewhere, so the file works offline and
/// as a mail attachment. Every text from a server or the config is escaped.
public enum HTMLPages {
    /// One account's drill-down: its report row, its storage history and folders.
    public struct AccountPage: Sendable {
        public var row: Reports.ReportRow
        public var points: [UsageChart.Point]
        public var folders: [FolderPoint]

        public init(row: Reports.ReportRow, points: [UsageChart.Point], folders: [FolderPoint]) {
            self.row = row
            self.points = points
            self.folders = folders
        }
    }

    public struct Overview: Sendable {
        public var locale: DisplayLocale
        public var generatedAt: Date
        public var since: Date
        public var rows: [Reports.ReportRow]
        public var servers: [ServerHealth]
        /// In the report file, every account's page follows the overview (links are
        /// anchors); served, each has its own URL.
        public var details: [AccountPage]
        public var links: Links

        /// Anchors in one report file; URLs (`/account/ID`) when served.
        public enum Links: Sendable { case anchors, pages }

        public init(locale: DisplayLocale, generatedAt: Date, since: Date, rows: [Reports.ReportRow], servers: [ServerHealth],
                    details: [AccountPage], links: Links) {
            self.locale = locale
            self.generatedAt = generatedAt
            self.since = since
            self.rows = rows
            self.servers = servers
            self.details = details
            self.links = links
        }
    }

    // MARK: - Pages

    /// The self-contained report: overview, then every account.
    public static func report(_ o: Overview) -> String {
        let t = Texts.for(o.locale)
        var body = overviewBody(o, t)
        for page in o.details { body += "<section class=\"account\" id=\"\(anchor(page.row.account))\">" + accountBody(page, o, t) + "</section>" }
        return document(title: t.title, locale: o.locale, body: body)
    }

    /// `/`: the overview, linking each account to `/account/ID` and to `/metrics`.
    public static func overviewPage(_ o: Overview) -> String {
        let t = Texts.for(o.locale)
        return document(title: t.title, locale: o.locale,
                        body: overviewBody(o, t) + "<p class=\"foot\"><a href=\"/metrics\">/metrics</a></p>")
    }

    /// `/account/ID`.
    public static func accountPage(_ page: AccountPage, _ o: Overview) -> String {
        let t = Texts.for(o.locale)
        return document(title: "\(page.row.account) · \(t.title)", locale: o.locale,
                        body: "<p><a href=\"/\">← \(t.overview)</a> · <a href=\"/metrics\">/metrics</a></p>" + accountBody(page, o, t))
    }

    // MARK: - Parts

    static func overviewBody(_ o: Overview, _ t: Texts) -> String {
        let failing = o.rows.filter { !$0.ok }
        // Unknown ("?") when an account's figure is unknown or the sum cannot be represented.
        let total = o.rows.filter { $0.percent != nil || $0.usedBytes != nil }.map(\.usedBytes).total()
        let fullest = o.rows.filter { $0.percent != nil }.max { ($0.percent!, $1.account) < ($1.percent!, $0.account) }
        let soonest = o.rows.filter { $0.storageFullAt != nil }.min { ($0.storageFullAt!, $0.account) < ($1.storageFullAt!, $1.account) }
        let firing = o.rows.reduce(0) { $0 + $1.alerts.count }
        var html = "<h1>\(HTML.escape(t.title))</h1><p class=\"meta\">\(HTML.escape(t.generated)) \(Reports.iso(o.generatedAt)) · \(HTML.escape(t.period)) \(Reports.day(o.since)) – \(Reports.day(o.generatedAt))</p>"
        html += "<div class=\"cards\">"
        html += card(t.accounts, "\(o.rows.count)", id: "accounts")
        html += card(t.failing, "\(failing.count)", id: "failing", alert: !failing.isEmpty)
        html += card(t.stored, SizeFormat.size(total), id: "stored")
        html += card(t.fullest, fullest.map { "\($0.account) \(SizeFormat.fixed($0.percent!, digits: 1)) %" } ?? "–", id: "fullest")
        html += card(t.fillsFirst, soonest.map { "\($0.account) \(Reports.day($0.storageFullAt!))" } ?? "–", id: "soonest")
        html += card(t.alertsFiring, "\(firing)", id: "alerts", alert: firing > 0)
        html += "</div>"
        html += serversTable(o.servers, now: o.generatedAt, t)
        html += "<h2>\(HTML.escape(t.accounts))</h2><table class=\"sortable\" id=\"accounts-table\"><thead><tr>"
        for (i, h) in [t.account, t.used, t.limit, t.use, t.fullBy, t.lastSuccess, t.status, t.alerts].enumerated() {
            html += "<th data-column=\"\(i)\">\(HTML.escape(h))</th>"
        }
        html += "</tr></thead><tbody>"
        for r in o.rows {
            let href = o.links == .anchors ? "#\(anchor(r.account))" : "/account/\(percentEncoded(r.account))"
            let status = r.ok ? (r.quotaStatus ?? .ok).rawValue : "\(t.failed) \(r.failureReason?.rawValue ?? "")"
            html += "<tr data-account=\"\(HTML.escape(r.account))\"\(r.ok ? "" : " class=\"failed\"")>"
            html += cell("<a href=\"\(HTML.escape(href))\">\(HTML.escape(r.account))</a>", sort: r.account)
            html += cell(HTML.escape(r.usedBytes.map { SizeFormat.bytes($0.value) } ?? "–"), sort: "\(r.usedBytes?.value ?? 0)", numeric: true, name: "used")
            html += cell(HTML.escape(r.limitBytes.map { SizeFormat.bytes($0.value) } ?? "–"), sort: "\(r.limitBytes?.value ?? 0)", numeric: true)
            html += cell(r.percent.map { SizeFormat.fixed($0, digits: 1) + " %" } ?? "–", sort: "\(r.percent ?? -1)", numeric: true, name: "percent")
            html += cell(r.storageFullAt.map(Reports.day) ?? "–", sort: r.storageFullAt.map { "\($0.timeIntervalSince1970)" } ?? "9e12", numeric: true)
            html += cell(r.lastSuccess.map(Reports.iso) ?? t.never, sort: "\(r.lastSuccess?.timeIntervalSince1970 ?? 0)", numeric: true)
            html += cell(HTML.escape(status), sort: status)
            html += cell(HTML.escape(r.alerts.isEmpty ? "–" : r.alerts.map(\.description).joined(separator: ", ")), sort: "\(r.alerts.count)", numeric: true)
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    static func serversTable(_ servers: [ServerHealth], now: Date, _ t: Texts) -> String {
        guard !servers.isEmpty else { return "" }
        var html = "<h2>\(HTML.escape(t.servers))</h2><table id=\"servers-table\"><thead><tr>"
        for h in [t.server, t.certificate, t.tls, t.loginP90, t.capabilitiesChanged] { html += "<th>\(HTML.escape(h))</th>" }
        html += "</tr></thead><tbody>"
        for h in servers {
            var certificate = "–", tls = "–"
            if let session = h.tls {
                let days = session.certificate.chainNotAfter.timeIntervalSince(now) / 86400
                certificate = "\(Reports.day(session.certificate.chainNotAfter)) (\(SizeFormat.fixed(days, digits: 0)) \(t.days)) · \(session.certificate.subject)"
                tls = "\(session.version) \(session.cipher ?? "")"
            }
            if h.tlsFailures > 0 { certificate = "\(t.notVerified): \(h.tlsFailure ?? "")" }
            let expiring = h.secondsToExpiry(now: now).map { $0 < 14 * 86400 } ?? false
            html += "<tr data-endpoint=\"\(HTML.escape(h.endpoint))\"\(expiring || h.tlsFailures > 0 ? " class=\"failed\"" : "")>"
            html += "<td>\(HTML.escape(h.server)) <span class=\"meta\">\(HTML.escape(h.endpoint))</span></td><td>\(HTML.escape(certificate))</td>"
            html += "<td>\(HTML.escape(tls))</td><td class=\"num\">\(h.loginQuantiles[0.9].map { SizeFormat.fixed($0, digits: 3) + " s" } ?? "–")</td>"
            html += "<td>\(h.capabilitiesChangedAt.map(Reports.iso) ?? "–")</td></tr>"
        }
        return html + "</tbody></table>"
    }

    static func accountBody(_ page: AccountPage, _ o: Overview, _ t: Texts) -> String {
        let r = page.row
        var html = "<h2>\(HTML.escape(r.account))</h2><p class=\"meta\">\(HTML.escape(r.user)) · \(HTML.escape(r.server))"
        if let used = r.usedBytes, let limit = r.limitBytes {
            html += " · \(HTML.escape(SizeFormat.bytes(used.value))) / \(HTML.escape(SizeFormat.bytes(limit.value)))"
        }
        if let full = r.storageFullAt { html += " · \(HTML.escape(t.fullBy)) \(Reports.day(full))" }
        if !r.ok { html += " · <strong>\(HTML.escape(t.failed)): \(HTML.escape(r.failureMessage ?? r.failureReason?.rawValue ?? ""))</strong>" }
        html += "</p>"
        // RFC 3501 §7.1: the server asked for this to reach a person; its text, escaped.
        if let alert = r.serverAlert {
            html += "<p class=\"server-alert\"><strong>\(HTML.escape(t.serverAlert))</strong>"
            html += "\(r.serverAlertAt.map { " (\(Reports.iso($0)))" } ?? ""): <span class=\"alert-text\">\(HTML.escape(DisplayText.line(alert)))</span></p>"
        }
        if !r.unknownFigures.isEmpty {
            html += "<div class=\"unknown\"><strong>\(HTML.escape(t.unknownFigures))</strong><ul>"
            for reason in r.unknownFigures { html += "<li>\(HTML.escape(DisplayText.line(reason)))</li>" }
            html += "</ul></div>"
        }
        html += UsageChart.svg(page.points, since: o.since, now: o.generatedAt, fullAt: r.storageFullAt, title: "\(r.account): \(t.chartTitle)")
        html += "<h3>\(HTML.escape(t.folders))</h3><table class=\"folders\"><thead><tr><th>\(HTML.escape(t.folder))</th><th>\(HTML.escape(t.size))</th><th>\(HTML.escape(t.messages))</th></tr></thead><tbody>"
        // The largest folders; the rest summed in one line (an account may have thousands).
        let bySize = page.folders.sorted { SizeOrder.largerFirst(($0.sizeBytes, $0.name), ($1.sizeBytes, $1.name)) }
        let shown = bySize.prefix(maxFolders), rest = bySize.dropFirst(maxFolders)
        for f in shown {
            html += "<tr><td class=\"folder\"><span class=\"name\">\(HTML.escape(f.name))</span>\(f.specialUse.isEmpty ? "" : " <span class=\"meta\">\(HTML.escape(f.specialUse.joined(separator: " ")))</span>")</td>"
            html += "<td class=\"num\">\(HTML.escape(SizeFormat.size(f.sizeBytes)))</td><td class=\"num\">\(f.messages)</td></tr>"
        }
        if !rest.isEmpty {
            let bytes = rest.map(\.sizeBytes).total()
            html += "<tr class=\"more\"><td>\(HTML.escape(t.moreFolders(rest.count)))</td><td class=\"num\">\(HTML.escape(SizeFormat.size(bytes)))</td><td></td></tr>"
        }
        return html + "</tbody></table>"
    }

    /// Folders listed per account; the rest are one line.
    static let maxFolders = 25

    static func card(_ label: String, _ value: String, id: String, alert: Bool = false) -> String {
        "<div class=\"card\(alert ? " alert" : "")\" id=\"card-\(id)\"><div class=\"label\">\(HTML.escape(label))</div><div class=\"value\">\(HTML.escape(value))</div></div>"
    }

    static func cell(_ html: String, sort: String, numeric: Bool = false, name: String? = nil) -> String {
        "<td data-sort=\"\(HTML.escape(sort))\"\(numeric ? " class=\"num\"" : "")\(name.map { " data-field=\"\($0)\"" } ?? "")>\(html)</td>"
    }

    /// An element id from an account id: only [A-Za-z0-9_-], the rest hex-escaped.
    static func anchor(_ account: String) -> String {
        "account-" + account.utf8.map { b -> String in
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"): String(UnicodeScalar(b))
            default: "." + String(b, radix: 16)
            }
        }.joined()
    }

    static func percentEncoded(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~@"))) ?? s
    }

    static func document(title: String, locale: DisplayLocale, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(locale.rawValue)"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="\(contentSecurityPolicy)">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title))</title>
        <style>\(css)</style></head>
        <body>\(body)<script>\(sortScript)</script></body></html>

        """
    }

    static let css = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330;background:#fff}
        h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.5em 0 .5em}h3{font-size:1em}
        .meta{color:#667085;font-size:.9em}.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
        .card{border:1px solid #d0d5dd;border-radius:6px;padding:.6em 1em;min-width:9em}
        .card .label{color:#667085;font-size:.85em}.card .value{font-size:1.3em;font-weight:600}
        .card.alert{border-color:#d92d20}.card.alert .value{color:#d92d20}
        table{border-collapse:collapse;margin:.5em 0}th,td{padding:.3em .7em;border-bottom:1px solid #eaecf0;text-align:left}
        th{background:#f9fafb}.sortable th{cursor:pointer}td.num{text-align:right;font-variant-numeric:tabular-nums}
        tr.failed td{color:#b42318}a{color:#175cd3}
        svg.chart{width:100%;max-width:640px;height:auto;border:1px solid #eaecf0}
        .grid{stroke:#eaecf0}.axis{font-size:10px;fill:#667085}.limit{stroke:#d92d20;stroke-dasharray:6 4}
        .usage{fill:none;stroke:#175cd3;stroke-width:2}.latest{fill:#175cd3}.forecast{stroke:#f79009;stroke-width:2;stroke-dasharray:2 3}
        section.account{border-top:2px solid #eaecf0;margin-top:2em}.foot{margin-top:2em}
        .server-alert,.unknown{background:#fffaeb;border-left:4px solid #f79009;padding:.4em .8em;margin:.8em 0}.unknown ul{margin:.2em 0}
        """

    /// Nothing but the page's own style and its one script (by hash) may run or load: a
    /// folder name that slipped past escaping still could not execute.
    public static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src '\(sortScriptHash)'; base-uri 'none'; form-action 'none'"

    /// SHA-256 of `sortScript`, base64 (checked by the tests against openssl's).
    static let sortScriptHash = "sha256-s4b/y1R3foEOY4C4ApKa+zjUt6kYg+HG2zHmghhpe80="

    /// Sorting the accounts table by a click on a header (each cell's data-sort value).
    static let sortScript = """
        document.querySelectorAll('table.sortable th').forEach(function (th) {
          th.addEventListener('click', function () {
            var table = th.closest('table'), body = table.tBodies[0], i = +th.dataset.column;
            var up = th.dataset.order !== 'asc'; th.dataset.order = up ? 'asc' : 'desc';
            var rows = Array.prototype.slice.call(body.rows);
            rows.sort(function (a, b) {
              var x = a.cells[i].dataset.sort, y = b.cells[i].dataset.sort;
              var nx = parseFloat(x), ny = parseFloat(y);
              var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
              return up ? c : -c;
            });
            rows.forEach(function (r) { body.appendChild(r); });
          });
        });
        """
}

/// The pages' words, English and Simplified Chinese (the config's `defaults.locale`).
struct Texts {
    var title, generated, period, overview, accounts, failing, stored, fullest, fillsFirst, alertsFiring: String
    var account, used, limit, use, fullBy, lastSuccess, status, alerts, failed, never: String
    var servers, server, certificate, tls, loginP90, capabilitiesChanged, days, notVerified: String
    var chartTitle, folders, folder, size, messages: String
    var moreFoldersFormat: String
    var serverAlert, unknownFigures: String

    func moreFolders(_ n: Int) -> String { moreFoldersFormat.replacingOccurrences(of: "%d", with: "\(n)") }

    static func `for`(_ locale: DisplayLocale) -> Texts {
        switch locale {
        case .en: en
        case .zhCN: zhCN
        }
    }

    static let en = Texts(
        title: "mailgauge: mailbox storage", generated: "Generated", period: "Period", overview: "Overview",
        accounts: "Accounts", failing: "Failing", stored: "Stored in total", fullest: "Fullest", fillsFirst: "Fills first",
        alertsFiring: "Alerts firing", account: "Account", used: "Used", limit: "Limit", use: "Use", fullBy: "Full by",
        lastSuccess: "Last success", status: "Status", alerts: "Alerts", failed: "FAILED", never: "never",
        servers: "Mail servers", server: "Server", certificate: "Certificate expires", tls: "TLS", loginP90: "Login p90",
        capabilitiesChanged: "Capabilities changed", days: "days", notVerified: "NOT VERIFIED",
        chartTitle: "storage used and limit, with the forecast", folders: "Where the space is", folder: "Folder", size: "Size",
        messages: "Messages", moreFoldersFormat: "%d more folders",
        serverAlert: "The server says", unknownFigures: "Unknown figures (shown as ?)")

    static let zhCN = Texts(
        title: "mailgauge：邮箱存储", generated: "生成于", period: "时间段", overview: "总览",
        accounts: "账户", failing: "检测失败", stored: "总存储量", fullest: "最满", fillsFirst: "最先写满",
        alertsFiring: "触发中的告警", account: "账户", used: "已用", limit: "配额", use: "使用率", fullBy: "预计写满",
        lastSuccess: "最近成功", status: "状态", alerts: "告警", failed: "失败", never: "从未",
        servers: "邮件服务器", server: "服务器", certificate: "证书到期", tls: "TLS", loginP90: "登录 p90",
        capabilitiesChanged: "能力变更", days: "天", notVerified: "未通过验证",
        chartTitle: "存储用量与配额及预测", folders: "空间分布", folder: "文件夹", size: "大小", messages: "邮件数", moreFoldersFormat: "另外 %d 个文件夹",
        serverAlert: "服务器提示", unknownFigures: "未知数值（显示为 ?）")
}
