import Foundation
@testable import Presentation
import MailGaugeCore
import Testing

/// The app's renderings of stored state, on plain values: what a person or a spreadsheet
/// is shown of figures that are unknown and of text a server or an owner controls.
@Suite("report, history and page renderings")
struct RenderingTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000)

    static func row(_ id: String, alert: String? = nil, unknown: [String] = []) -> Reports.ReportRow {
        var row = Reports.ReportRow(account: id, user: id, server: "corp", quotaStatus: .unsupported, usedBytes: nil, limitBytes: nil,
                                    percent: nil, trendBytesPerDay: nil, storageFullAt: nil, lastSuccess: at, ok: true, failureReason: nil,
                                    failureMessage: nil, consecutiveFailures: 0)
        row.serverAlert = alert
        row.serverAlertAt = alert == nil ? nil : at
        row.unknownFigures = unknown
        return row
    }

    @Test("folder history: an unknown size is null in JSON, empty in CSV, ? in the table")
    func unknownFolderSize() throws {
        let points = [FolderPoint(at: Self.at, name: "INBOX", specialUse: [], messages: 3, sizeBytes: nil),
                      FolderPoint(at: Self.at, name: "Sent", specialUse: ["\\Sent"], messages: 1, sizeBytes: 512)]
        let json = try Reports.renderFolderHistory(points, format: .json)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(items[0]["size_bytes"] is NSNull && items[1]["size_bytes"] as? Int == 512, "\(json)")
        let csv = try Reports.renderFolderHistory(points, format: .csv).split(separator: "\n")
        #expect(csv[1].hasSuffix(",INBOX,,3,"), "\(csv)")
        let table = try Reports.renderFolderHistory(points, format: .table)
        #expect(table.split(separator: "\n").first { $0.contains("INBOX") }?.hasSuffix("?") == true, "\(table)")
    }

    @Test("CSV: CR, LF and CRLF fields are quoted; fields that start like a formula are neutralised; numbers are not")
    func csvSafety() throws {
        #expect(Reports.csvField("a\r\nb") == "\"a\r\nb\"")
        #expect(Reports.csvField("a\rb") == "\"a\rb\"")
        #expect(Reports.csvField("q\"\u{301}") == "\"q\"\"\u{301}\"", "a quote joined to a combining mark is still doubled")
        let points = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "plain"].map {
            FolderPoint(at: Self.at, name: $0, specialUse: [], messages: 1, sizeBytes: 1)
        }
        let rows = try Reports.renderFolderHistory(points, format: .csv).split(separator: "\n").dropFirst().map(String.init)
        #expect(rows[0].contains(",\"'=HYPERLINK(\"\"http://x\"\")\","), "\(rows[0])")
        #expect(rows[1].contains(",'+1,") && rows[2].contains(",'-2,") && rows[3].contains(",'@SUM(A1),") && rows[4].contains(",'\tx,"))
        #expect(rows[5].contains(",plain,"))
        var trend = Self.row("=cmd")
        trend.trendBytesPerDay = -5
        let report = try Reports.renderReport([trend], format: .csv)
        #expect(report.contains("'=cmd,'=cmd,corp") && report.contains(",-5,"), "\(report)")
    }

    @Test("an account's page and the report show the server's [ALERT] text and the unknown figures, escaped")
    func pagesShowAlertAndUnknown() {
        let row = Self.row("alice", alert: "Mailbox is <b>over</b> quota & will \u{1B}[2J bounce",
                           unknown: ["size of folder \"<Archive>\" unknown: its messages' sizes add up past 2^63-1 bytes"])
        let page = HTMLPages.AccountPage(row: row, points: [], folders: [FolderPoint(at: Self.at, name: "<Archive>", specialUse: [], messages: 3, sizeBytes: nil)])
        let overview = HTMLPages.Overview(locale: .en, generatedAt: Self.at, since: Self.at.addingTimeInterval(-86400), rows: [row],
                                          servers: [], details: [page], links: .anchors)
        for html in [HTMLPages.accountPage(page, overview), HTMLPages.report(overview)] {
            #expect(html.contains("class=\"server-alert\""))
            #expect(html.contains("Mailbox is &lt;b&gt;over&lt;/b&gt; quota &amp; will \\u{1B}[2J bounce"), "escaped, controls shown")
            #expect(!html.contains("<b>over"))
            #expect(html.contains("size of folder &quot;&lt;Archive&gt;&quot; unknown") || html.contains("size of folder \"&lt;Archive&gt;\" unknown"))
            #expect(html.contains("<td class=\"num\">?</td>"), "the folder's unknown size is ?")
        }
    }
}
