import ArgumentParser
import Config
import Foundation
import MailGaugeApp

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Work with the accounts the history holds.",
        subcommands: [AccountsPruneCommand.self]
    )
}

struct AccountsPruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete the history of accounts that are no longer in the config.",
        discussion: "Accounts removed from the config are already left out of metrics, reports and alerts; this also deletes what the database holds about them."
    )

    @OptionGroup var configOption: ConfigOption

    @Flag(help: "Only list the accounts that would be removed.")
    var dryRun = false

    func run() async throws {
        let config = try loadConfig(configOption.path, purpose: .read).config
        guard FileManager.default.fileExists(atPath: config.database) else {
            throw CommandFailure(message: "no database at \(config.database) yet")
        }
        let gone: [String]
        do {
            gone = try Accounts.prune(config, dryRun: dryRun)
        } catch {
            throw CommandFailure(message: "database \(config.database): \(error)")
        }
        if gone.isEmpty {
            print("every account in the history is in the config")
        } else {
            print("\(dryRun ? "would remove" : "removed") \(gone.count) account\(gone.count == 1 ? "" : "s") no longer in the config: \(gone.joined(separator: ", "))")
        }
    }
}
