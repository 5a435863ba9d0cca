import ArgumentParser
import Foundation
import Config
import Logging
import MailGaugeApp

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "One pass: probe the accounts due and store the results.",
        discussion: """
        With schedule.policy adaptive (the default) a pass probes the accounts that are due:
        new, failing and over-threshold accounts every pass, the others when their headroom
        and growth say they could come near a threshold (at the latest after
        schedule.max_interval); `report` shows each account's next probe. --all probes every
        account; policy fixed probes every account every pass.
        Exit 0 when every account was probed, 1 when some failed (each failure is stored
        with its reason), 3 when every account failed, 2 on config or database errors.
        When a previous run still holds the lock (after waiting lock_wait), this run does
        nothing and exits 0.
        """
    )

    @OptionGroup var configOption: ConfigOption

    @Option(name: .customLong("log-level"), help: "Log level on stderr (default: info when not on a terminal, warning on one).")
    var logLevel: String?

    @Option(name: .customLong("retry-backoff"), help: .hidden)
    var retryBackoff: Double = 2

    @Option(name: .customLong("alerts-format"), help: "Alert lines on stdout: text or json (default: alerts.stdout_format).")
    var alertsFormat: String?

    @Option(help: "Probe only this agent's share K of N of the accounts (default: the config's shard:, else all).")
    var shard: String?

    @Flag(name: .customLong("all"), help: "Probe every account now, whether or not the adaptive schedule has it due.")
    var probeAll = false

    func validate() throws {
        if let shard, Shard(parsing: shard) == nil { throw ValidationError("--shard must be K/N with 1 ≤ K ≤ N ≤ \(Shard.maximumCount)") }
        if let alertsFormat, AlertLineFormat(rawValue: alertsFormat) == nil { throw ValidationError("--alerts-format must be text or json") }
    }

    func run() async throws {
        let onTerminal = isatty(STDERR_FILENO) == 1
        let level = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? (onTerminal ? .warning : .info)
        let logger = LogSetup.logger(label: "mailgauge.run", level: level)
        let result = await RunJob.execute(.init(configPath: configOption.path, progressBar: onTerminal, retryBackoffSeconds: retryBackoff,
                                                alertsFormat: alertsFormat.flatMap(AlertLineFormat.init(rawValue:)),
                                                shard: shard.flatMap(Shard.init(parsing:)), probeAll: probeAll),
                                          logger: logger)
        for line in result.alertLines { print(line) }
        switch result.exit {
        case .configOrDatabase:
            throw CommandFailure(message: result.message, exitCode: 2)
        case .someFailed:
            print(result.message)
            throw ExitCode(1)
        case .allFailed:
            print(result.message)
            throw ExitCode(3)
        case .allProbed:
            print(result.message)
        }
    }
}
