import ArgumentParser
import Config
import Foundation
import IMAPClient
import Logging
import MailGaugeApp
import MailGaugeCore

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe one account: quota and every folder's size. No config, no database.",
        discussion: """
        The password comes from --password-file, else a prompt on a terminal, else the
        MAILGAUGE_PASSWORD environment variable. Exit 0 on success, 2 on usage,
        connection, TLS, authentication or protocol errors.
        """
    )

    @Argument(help: "imaps://USER@HOST[:PORT] (implicit TLS) or imap://USER@HOST[:PORT] (STARTTLS).")
    var url: String

    @Option(name: .customLong("password-file"), help: "File holding the password (first line).")
    var passwordFile: String?

    @Option(name: .customLong("token-file"), help: "File holding the OAuth2 access token (xoauth2, oauthbearer).")
    var tokenFile: String?

    @Option(name: .customLong("ca-file"), help: "PEM file of CA certificates to trust instead of the system store.")
    var caFile: String?

    @Option(help: "auto, login, plain, xoauth2 or oauthbearer (auto: PLAIN when offered, else LOGIN).")
    var auth: String = "auto"

    @Option(help: "Authorization identity: log in as USER (a master user) to open this mailbox.")
    var authzid: String?

    @Option(help: "How to read folder sizes: auto, list-status, status or fetch.")
    var method: String = "auto"

    @Flag(name: .customLong("insecure-plaintext"), help: "Allow imap:// without TLS. Credentials travel in clear text.")
    var insecurePlaintext = false

    @Option(help: "Connect timeout, and the deadline for each command's whole answer (e.g. 30, 30s, 2m).")
    var timeout: String = "30s"

    @Option(name: .customLong("overall-timeout"), help: "Deadline for the whole probe, however the server behaves.")
    var overallTimeout: String = "5m"

    @Flag(help: "Print one JSON object instead of tables.")
    var json = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, warning or error (to stderr). Secrets are never logged.")
    var logLevel: String = "warning"

    func validate() throws {
        guard Credentials.Mechanism(rawValue: auth) != nil else {
            throw ValidationError("--auth must be one of auto, login, plain, xoauth2, oauthbearer")
        }
        guard method == "auto" || FolderMethod(rawValue: method) != nil else {
            throw ValidationError("--method must be one of auto, list-status, status, fetch")
        }
        guard let seconds = Units.duration(timeout), seconds > 0, seconds <= 3600 else {
            throw ValidationError("--timeout must be a duration such as 30, 30s or 2m")
        }
        guard let overall = Units.duration(overallTimeout), overall >= 1, overall <= 86400 else {
            throw ValidationError("--overall-timeout must be a duration from 1s to 1d, such as 300s or 5m")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let logger = LogSetup.logger(label: "mailgauge.probe", level: Logger.Level(rawValue: logLevel) ?? .warning)
        let options = ProbeJob.Options(
            url: url, passwordFile: passwordFile, tokenFile: tokenFile, caFile: caFile,
            mechanism: Credentials.Mechanism(rawValue: auth) ?? .auto, authorizationID: authzid, method: FolderMethod(rawValue: method),
            insecurePlaintext: insecurePlaintext, timeoutSeconds: Units.duration(timeout) ?? 30,
            overallTimeoutSeconds: Units.duration(overallTimeout) ?? 300, json: json)
        let output: ProbeJob.Output
        do {
            output = try await ProbeJob.run(options, logger: logger)
        } catch {
            throw CommandFailure(message: error.message)
        }
        // stderr, so --json stays clean.
        for alert in output.alerts { FileHandle.standardError.write(Data("mailgauge: server alert: \(alert)\n".utf8)) }
        print(output.text, terminator: "")
    }
}
