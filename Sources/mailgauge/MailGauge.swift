import ArgumentParser
import Foundation
import MailGaugeApp
import MailGaugeCore

@main
struct MailGauge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailgauge",
        abstract: "Watch IMAP mailbox storage before it fills.",
        version: MailGaugeVersion.current,
        subcommands: [RunCommand.self, ServeCommand.self, CheckCommand.self, ReportCommand.self, HistoryCommand.self, ProbeCommand.self,
                      ConfigCommand.self, AlertCommand.self, AccountsCommand.self]
    )

    /// Exit codes are ours, not ArgumentParser's: usage errors are 2 (as for connection
    /// and auth errors of `probe`), help and version 0.
    static func main() async {
        ProcessHardening.disableCoreDumps()
        ProcessHardening.raiseOpenFileLimit()
        MemoryTuning.limitMallocArenas()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let failure as CommandFailure {
            if !failure.message.isEmpty {
                FileHandle.standardError.write(Data("mailgauge: \(failure.message)\n".utf8))
            }
            Foundation.exit(failure.exitCode)
        } catch {
            let code = exitCode(for: error)
            // A monitoring plugin's usage errors, help and version are UNKNOWN (3): the
            // monitoring-plugins guidelines; Nagios and Icinga read nothing else.
            if CommandLine.arguments.dropFirst().first == "check" {
                print(fullMessage(for: error))
                Foundation.exit(3)
            }
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// A failure with a one-line message for stderr and an exit code.
struct CommandFailure: Error {
    var message: String
    var exitCode: Int32 = 2
}
