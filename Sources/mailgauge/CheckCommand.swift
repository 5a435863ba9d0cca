import ArgumentParser
import Foundation
import Logging
import Config
import MailGaugeApp

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Nagios/Icinga plugin: status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        discussion: """
        Reads the stored state of the last run (or probes afresh with --probe, storing
        nothing). Perfdata per quota resource: 'storage'=USEDB;WARN;CRIT;0;LIMIT. A failed
        latest probe, stale data (older than --max-age) or a missing account is UNKNOWN.
        """
    )

    @OptionGroup var configOption: ConfigOption

    @Option(help: "Check only this account (config id); default: every account.")
    var account: String?

    @Flag(help: "Probe the account(s) now instead of reading the stored state.")
    var probe = false

    @Option(name: .customLong("max-age"), help: "Stored data older than this is UNKNOWN (e.g. 1h; default: 3 schedule intervals, at least 1h).")
    var maxAge: String?

    func run() async throws {
        // Nagios reads exit codes 0-3 only: every failure of our own is UNKNOWN (3).
        let loaded: ConfigLoader.Loaded
        do {
            loaded = try ConfigLoader.load(path: configOption.config, purpose: probe ? .probe : .read)
        } catch {
            print("MAILGAUGE UNKNOWN - invalid config: \(String(describing: error).split(separator: "\n").first ?? "")")
            throw ExitCode(3)
        }
        var maxAgeSeconds: Double?
        if let maxAge {
            guard let seconds = Units.duration(maxAge) else {
                print("MAILGAUGE UNKNOWN - --max-age: not a duration: \(maxAge)")
                throw ExitCode(3)
            }
            maxAgeSeconds = seconds
        }
        let logger = LogSetup.logger(label: "mailgauge.check", level: .error)
        let output = await NagiosCheck.run(config: loaded.config, account: account, probe: probe, maxAgeSeconds: maxAgeSeconds, logger: logger)
        print(output.text)
        throw ExitCode(output.state.rawValue)
    }
}
