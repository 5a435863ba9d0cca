import ArgumentParser
import Config
import MailGaugeApp
import Store

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Every account's latest usage, 7-day trend, last success and failure reason, fullest first."
    )

    @OptionGroup var configOption: ConfigOption

    @Option(help: "table, json or csv.")
    var format: String = "table"

    func run() async throws {
        guard let format = Reports.Format(rawValue: format) else { throw ValidationError("--format must be table, json or csv") }
        let (config, database) = try openDatabase(configPath: configOption.path)
        let rows = try Reports.reportRows(database, accounts: Set(config.accounts.map(\.id)))
        print(try Reports.renderReport(rows, format: format), terminator: "")
    }
}
