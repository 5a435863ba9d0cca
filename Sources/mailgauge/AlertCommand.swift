import ArgumentParser
import Foundation
import Logging
import Config
import MailGaugeApp
import Notify

struct AlertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert",
        abstract: "Alert channels.",
        subcommands: [AlertTestCommand.self]
    )
}

struct AlertTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test notice through every configured channel and report each result.",
        discussion: "Exit 0 when every channel accepted the notice, 1 when one failed, 2 on a config error."
    )

    @OptionGroup var configOption: ConfigOption

    func run() async throws {
        let loaded = try loadConfig(configOption.path)
        let logger = LogSetup.logger(label: "mailgauge.alert", level: .error)
        let results = await Notifications.test(config: loaded.config, now: Date(), logger: logger)
        if results.isEmpty {
            print("no alert channel configured (alerts.stdout is off, no alerts.email, no alerts.webhook)")
            throw ExitCode(1)
        }
        for r in results { print("\(r.ok ? "ok    " : "FAILED") \(r.channel): \(r.detail)") }
        if results.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}
