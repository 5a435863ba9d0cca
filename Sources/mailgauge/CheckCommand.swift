import ArgumentParser
import Foundation
import Logging
import Config
import MailGaugeApp
import Presentation
import MailGaugeCore

/// `mailgauge check`: a plugin per the monitoring-plugins guidelines. `-c` is the critical
/// threshold here, as in every plugin; the config is `--config` (or MAILGAUGE_CONFIG, or
/// the packaged path). Every failure of our own, usage errors, `--help` and `--version`
/// exit 3 (UNKNOWN): a monitoring system reads only 0-3.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Nagios/Icinga plugin: status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        discussion: """
        Reads the stored state of the last run (or probes afresh with --probe, storing
        nothing). Perfdata per quota resource, in bytes and in percent:
        storage=USEDB;WARN;CRIT;0;LIMIT and storage_pct=PCT%;WARN;CRIT;0;100. A failed
        latest probe, stale data (older than --max-age), a missing account or a timeout is
        UNKNOWN.

        Thresholds: the config's (account, server, defaults), or -w/-c as usage percentage
        ranges in the plugins' syntax ([@][start:][end], e.g. -w 80 -c 95, -c @0:10 inverts).
        min_free, a full mailbox and the forecast always apply from the config.
        """
    )

    @Option(name: .customLong("config"), help: "Config file (YAML); default: $MAILGAUGE_CONFIG, else /etc/mailgauge/mailgauge.yml.")
    var config: String?

    @Option(name: [.customShort("w"), .long], help: "Warning range, usage percent (e.g. 80).")
    var warning: String?

    @Option(name: [.customShort("c"), .long], help: "Critical range, usage percent (e.g. 95).")
    var critical: String?

    @Option(name: [.customShort("t"), .long], help: "Seconds before giving up with UNKNOWN.")
    var timeout: Int = 50

    @Option(help: "Check only this account (config id); default: every account.")
    var account: String?

    @Option(help: "Check this server's health (config name) instead of accounts: its certificate, TLS and logins as the last run saw them.")
    var server: String?

    @Option(name: .customLong("cert-warning"), help: "With --server: WARNING when the certificate expires within this (default 14d).")
    var certWarning: String = "14d"

    @Option(name: .customLong("cert-critical"), help: "With --server: CRITICAL when the certificate expires within this (default 3d).")
    var certCritical: String = "3d"

    @Flag(help: "Probe the account(s) now instead of reading the stored state.")
    var probe = false

    @Option(name: .customLong("max-age"), help: "Stored data older than this is UNKNOWN (e.g. 1h; default: 3 schedule intervals, plus max_interval under the adaptive policy, at least 1h).")
    var maxAge: String?

    @Flag(name: [.customShort("V"), .long], help: "Print the plugin's version and exit (3, as the guidelines say).")
    var version = false

    static func unknown(_ text: String) -> ExitCode {
        print("MAILGAUGE UNKNOWN - \(text)")
        return ExitCode(3)
    }

    func run() async throws {
        if version {
            print("mailgauge check \(MailGaugeVersion.current)")
            throw ExitCode(3)
        }
        var ranges = NagiosCheck.Ranges()
        if let warning {
            guard let range = NagiosRange(warning) else { throw Self.unknown("-w: not a threshold range: \(warning)") }
            ranges.warning = range
        }
        if let critical {
            guard let range = NagiosRange(critical) else { throw Self.unknown("-c: not a threshold range: \(critical)") }
            ranges.critical = range
        }
        guard (1...86400).contains(timeout) else { throw Self.unknown("-t: seconds between 1 and 86400") }
        let loaded: ConfigLoader.Loaded
        do {
            loaded = try ConfigLoader.load(path: ConfigOption.resolve(config), purpose: probe ? .probe : .read)
        } catch {
            throw Self.unknown("invalid config: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        var maxAgeSeconds: Double?
        if let maxAge {
            guard let seconds = Units.duration(maxAge) else { throw Self.unknown("--max-age: not a duration: \(maxAge)") }
            maxAgeSeconds = seconds
        }
        if let server {
            guard let warning = Units.duration(certWarning), let critical = Units.duration(certCritical), critical <= warning else {
                throw Self.unknown("--cert-warning/--cert-critical: durations, critical at most warning")
            }
            var thresholds = ServerCheck.Thresholds()
            thresholds.warningSeconds = warning
            thresholds.criticalSeconds = critical
            let output = ServerCheck.run(config: loaded.config, server: server, thresholds: thresholds, maxAgeSeconds: maxAgeSeconds)
            print(output.text)
            throw ExitCode(output.state.rawValue)
        }
        let logger = LogSetup.logger(label: "mailgauge.check", level: .error)
        let config = loaded.config, account = account, probe = probe, timeout = timeout
        // -t: whatever the check is waiting for (a server, a locked database), the plugin
        // answers UNKNOWN in time and exits.
        Task.detached {
            try? await Task.sleep(for: .seconds(timeout))
            print("MAILGAUGE UNKNOWN - timed out after \(timeout) s (-t)")
            fflush(nil)  // every output stream
            Foundation.exit(3)
        }
        let output = await NagiosCheck.run(config: config, account: account, probe: probe, maxAgeSeconds: maxAgeSeconds, ranges: ranges, logger: logger)
        print(output.text)
        throw ExitCode(output.state.rawValue)
    }
}
