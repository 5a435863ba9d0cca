import ArgumentParser
import Foundation
import Logging
import Config
import MailGaugeApp
import Store

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "One pass: probe every configured account and store the results.",
        discussion: """
        Exit 0 when every account was probed, 1 when some failed (each failure is stored
        with its reason), 2 on config or database errors. When a previous run still holds
        the lock (after waiting lock_wait), this run does nothing and exits 0.
        """
    )

    @Option(name: .shortAndLong, help: "Config file (YAML).")
    var config: String

    @Option(name: .customLong("log-level"), help: "Log level on stderr (default: info when not on a terminal, warning on one).")
    var logLevel: String?

    @Option(name: .customLong("retry-backoff"), help: .hidden)
    var retryBackoff: Double = 2

    @Option(name: .customLong("alerts-format"), help: "Alert lines on stdout: text or json (default: alerts.stdout_format).")
    var alertsFormat: String?

    func validate() throws {
        if let alertsFormat, !["text", "json"].contains(alertsFormat) { throw ValidationError("--alerts-format must be text or json") }
    }

    func run() async throws {
        let onTerminal = isatty(STDERR_FILENO) == 1
        let level = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? (onTerminal ? .warning : .info)
        let logger = LogSetup.logger(label: "mailgauge.run", level: level)
        let result = await RunJob.execute(.init(configPath: config, progressBar: onTerminal, retryBackoffSeconds: retryBackoff,
                                                alertsFormat: alertsFormat),
                                          logger: logger)
        for line in result.alertLines { print(line) }
        switch result.exit {
        case .configOrDatabase:
            throw CommandFailure(message: result.message, exitCode: 2)
        case .someFailed:
            print(result.message)
            throw ExitCode(1)
        case .allProbed:
            print(result.message)
        }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Every account's latest usage, 7-day trend, last success and failure reason, fullest first."
    )

    @Option(name: .shortAndLong, help: "Config file (YAML).")
    var config: String

    @Option(help: "table, json or csv.")
    var format: String = "table"

    func run() async throws {
        guard let format = Reports.Format(rawValue: format) else { throw ValidationError("--format must be table, json or csv") }
        let database = try openDatabase(configPath: config)
        print(try Reports.renderReport(try Reports.reportRows(database), format: format), terminator: "")
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "One account's usage and limit over time (per quota root and resource), or its folders."
    )

    @Option(name: .shortAndLong, help: "Config file (YAML).")
    var config: String

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
        let database = try openDatabase(configPath: config)
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

    @Argument(help: "Config file (YAML).")
    var config: String

    func run() async throws {
        let loaded = try loadConfig(config)
        for warning in loaded.warnings {
            FileHandle.standardError.write(Data("\(warning)\n".utf8))
        }
        print(ConfigSummary.render(loaded.config), terminator: "")
    }
}
