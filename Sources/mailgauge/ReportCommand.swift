import ArgumentParser
import Config
import Foundation
import MailGaugeApp
import Presentation
import MailGaugeCore
import Store

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Every account's latest usage, 7-day trend, last success and failure reason, fullest first.",
        discussion: """
        --format html writes one self-contained page (inline CSS and SVG, nothing loaded
        from elsewhere: it works offline and as a mail attachment): the fleet overview, the
        mail servers' health, a sortable table, and per account its storage over --since
        against the limit with the forecast, and the folders holding the space. Words in
        the config's defaults.locale (en or zh-CN).
        """
    )

    @OptionGroup var configOption: ConfigOption

    @Option(help: "table, json, csv or html.")
    var format: String = "table"

    @Option(help: "With --format html: the period the charts show (e.g. 30d).")
    var since: String = "30d"

    func run() async throws {
        let html = format == "html"
        guard let format = html ? .table : Reports.Format(rawValue: format) else {
            throw ValidationError("--format must be table, json, csv or html")
        }
        let (config, database) = try openDatabase(configPath: configOption.path)
        let accounts = Set(config.accounts.map(\.id))
        if html {
            guard let seconds = Units.duration(since), seconds > 0 else { throw ValidationError("--since: a duration such as 30d") }
            let now = Date()
            let overview = try HTMLPages.overview(database, accounts: accounts, locale: DisplayLocale(config.defaults.locale),
                                                  since: now.addingTimeInterval(-seconds), now: now, details: true)
            print(HTMLPages.report(overview), terminator: "")
            return
        }
        let rows = try Reports.reportRows(database, accounts: accounts)
        var text = try Reports.renderReport(rows, format: format)
        if format == .table { text += Reports.renderServers(try database.serverHealth()) }
        print(text, terminator: "")
    }
}
