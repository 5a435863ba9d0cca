import ArgumentParser
import Foundation
import Logging
import MailGaugeApp

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Long-running: a pass every schedule.interval, /metrics on metrics.listen, SIGHUP reloads the config.",
        discussion: """
        Serves /metrics (from the database: a scrape never logs into IMAP), /-/healthy and
        /-/ready (ready after the first pass). Binds to metrics.listen (default
        127.0.0.1:9786); put a reverse proxy in front for TLS or basic auth. SIGTERM or
        SIGINT stop it gracefully: a pass in flight is abandoned and stores nothing.
        """
    )

    @OptionGroup var configOption: ConfigOption

    @Option(help: "HOST:PORT to listen on, overriding metrics.listen.")
    var listen: String?

    @Option(name: .customLong("log-level"), help: "Log level on stderr.")
    var logLevel: String = "info"

    func run() async throws {
        let logger = LogSetup.logger(label: "mailgauge.serve", level: Logger.Level(rawValue: logLevel) ?? .info)
        do {
            try await Serve.run(configPath: configOption.path, listenOverride: listen, logger: logger) { port in
                logger.notice("serving /metrics", metadata: ["port": "\(port)"])
            }
        } catch is CancellationError {
            // graceful shutdown (SIGTERM/SIGINT): a normal end
        } catch {
            throw CommandFailure(message: "\(error)", exitCode: 2)
        }
    }
}
