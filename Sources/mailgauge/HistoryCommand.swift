import ArgumentParser
import Config
import Foundation
import MailGaugeApp
import Presentation
import Store

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "One account's usage and limit over time (per quota root and resource), or its folders."
    )

    @OptionGroup var configOption: ConfigOption

    @Argument(help: "The account id from the config.")
    var account: String

    @Option(help: "How far back, e.g. 30d, 12h.")
    var since: String = "30d"

    @Option(help: "table, json or csv.")
    var format: String = "table"

    @Flag(help: "Show folder sizes instead of quota.")
    var folders = false

    func run() async throws {
        guard let format = Reports.Format(rawValue: format) else { throw ValidationError("--format must be table, json or csv") }
        guard let seconds = Units.duration(since), seconds > 0 else {
            throw ValidationError("--since must be a duration such as 30d or 12h")
        }
        let database = try openDatabase(configPath: configOption.path).database
        guard try database.accountExists(account) else {
            throw CommandFailure(message: "no history for account '\(account)' (use the account id from the config)")
        }
        let from = Date().addingTimeInterval(-seconds)
        if folders {
            print(try Reports.renderFolderHistory(try database.folderHistory(account: account, since: from), format: format), terminator: "")
        } else {
            print(try Reports.renderHistory(try database.history(account: account, since: from), format: format), terminator: "")
        }
    }
}
