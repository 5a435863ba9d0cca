import ArgumentParser
import Foundation
import Config
import MailGaugeApp

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with config files.",
        subcommands: [ConfigCheckCommand.self, ConfigExampleCommand.self]
    )
}

struct ConfigExampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example",
        abstract: "Print a fully commented example config (every key, with its default).",
        aliases: ["init"]
    )

    func run() throws {
        print(ConfigExample.text, terminator: "")
    }
}

struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config; print every error with file:line:column, or a summary."
    )

    @Argument(help: "Config file (YAML); default: -c/--config, $MAILGAUGE_CONFIG, else /etc/mailgauge/mailgauge.yml.")
    var file: String?

    @OptionGroup var configOption: ConfigOption

    func run() async throws {
        let loaded = try loadConfig(file ?? configOption.path)
        for warning in loaded.warnings {
            FileHandle.standardError.write(Data("\(warning)\n".utf8))
        }
        print(ConfigSummary.render(loaded.config), terminator: "")
    }
}
