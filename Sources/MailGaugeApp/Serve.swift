import Config
import Exposition
import Foundation
public import Logging
import MailGaugeCore
import ServiceLifecycle
import Store
import UnixSignals

/// `mailgauge serve`: passes every `schedule.interval` (never overlapping, and sharing the
/// run lock with `mailgauge run`), `/metrics` from the database, config reload on SIGHUP
/// (a broken config keeps the old one), graceful shutdown on SIGTERM/SIGINT (a pass in
/// flight is abandoned without storing anything half-done).
public enum Serve {
    public static func run(configPath: String, listenOverride: String?, logger: Logger,
                           onBound: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let loaded = try ConfigLoader.load(path: configPath)
        for warning in loaded.warnings { logger.warning("\(warning)") }
        let state = ServeState(configPath: configPath, config: loaded.config, logger: logger)
        let listen = listenOverride ?? loaded.config.metrics.listen
        guard let (host, port) = parseListen(listen) else {
            throw ConfigErrors(errors: [ConfigError(file: configPath, line: 0, column: 0, key: "metrics.listen",
                                                    message: "expected HOST:PORT, found '\(listen)'")])
        }
        // Create and migrate the database before anything else can touch it.
        _ = try await state.openDatabase()
        let server = MetricsHTTPServer(host: host, port: port) { _, path in await state.respond(path) }
        let group = ServiceGroup(
            services: [HTTPService(server: server, onBound: onBound), SchedulerService(state: state, logger: logger),
                       ReloadService(state: state, logger: logger)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    static func parseListen(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// The configuration in force and the reload gauges.
actor ServeState {
    let configPath: String
    private(set) var config: MailGaugeConfig
    private var reloadOK = true
    private var reloadTime = Date()
    private var database: AppDatabase?
    private var ready = false
    /// `/metrics` as rendered after the last pass (or reload): a scrape serves these bytes
    /// instead of reading and rendering 10,000 accounts again. Stored state only changes
    /// in a pass, so nothing newer exists until the next one.
    private var renderedMetrics: String?
    /// The pages' overview, read once per pass or reload for the same reason.
    private var cachedOverview: HTMLPages.Overview?
    let logger: Logger

    init(configPath: String, config: MailGaugeConfig, logger: Logger) {
        self.configPath = configPath
        self.config = config
        self.logger = logger
    }

    func reload(logger: Logger) {
        do {
            let loaded = try ConfigLoader.load(path: configPath)
            for warning in loaded.warnings { logger.warning("\(warning)") }
            if loaded.config.database != config.database { database = nil }
            config = loaded.config
            renderedMetrics = nil
            cachedOverview = nil
            reloadOK = true
            reloadTime = Date()
            logger.info("config reloaded", metadata: ["accounts": "\(config.accounts.count)"])
        } catch {
            reloadOK = false
            renderedMetrics = nil
            cachedOverview = nil
            logger.error("config reload failed; keeping the previous config", metadata: ["error": "\(error)"])
        }
    }

    /// A pass finished: ready, and the stored state changed. `/metrics` is rendered now,
    /// from the state the pass read for its alerts, and served from then on.
    func passFinished(stored: Bool, state: StoredState?) {
        if stored { ready = true }
        renderedMetrics = state.map { Metrics.render($0, config: config, extraGauges: reloadGauges()) }
        cachedOverview = nil
    }

    private func reloadGauges() -> [(name: String, help: String, value: Double)] {
        [
            ("mailgauge_config_last_reload_successful", "1 when the last config (re)load succeeded.", reloadOK ? 1 : 0),
            ("mailgauge_config_last_reload_success_timestamp_seconds", "Unix time of the last successful config load.",
             reloadTime.timeIntervalSince1970.rounded()),
        ]
    }

    func openDatabase() throws -> AppDatabase {
        if let database { return database }
        let db = try AppDatabase(path: config.database)
        database = db
        return db
    }

    func respond(_ path: String) -> MetricsHTTPServer.Response {
        switch path {
        case "/metrics":
            do {
                let gauges = reloadGauges()
                // Before the first pass has created the database, do not create it from
                // here (two migrations at once would race): export only what we know.
                guard database != nil || FileManager.default.fileExists(atPath: config.database) else {
                    return .init(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                 body: Metrics.renderWithoutDatabase(extraGauges: gauges))
                }
                let text = try renderedMetrics ?? Metrics.render(try openDatabase(), config: config, extraGauges: gauges)
                renderedMetrics = text
                return .init(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
            } catch {
                // The reason goes to the log, not to whoever scrapes (paths, SQL).
                logger.error("metrics: cannot read the database", metadata: ["error": "\(error)"])
                return .init(status: 500, body: "cannot read the database (see mailgauge's log)\n")
            }
        case "/", "/index.html":
            return page { database in
                HTMLPages.overviewPage(try self.overview(database))
            }
        case let p where p.hasPrefix("/account/"):
            guard let id = String(p.dropFirst("/account/".count)).removingPercentEncoding, !id.isEmpty else {
                return .init(status: 404, body: "not found\n")
            }
            return page { database in
                let overview = try self.overview(database)
                guard let account = try HTMLPages.accountPage(id, in: overview, database: database) else { return nil }
                return HTMLPages.accountPage(account, overview)
            }
        case "/-/healthy":
            return .init(status: 200, body: "OK\n")
        case "/-/ready":
            return ready ? .init(status: 200, body: "OK\n") : .init(status: 503, body: "first pass not finished\n")
        default:
            return .init(status: 404, body: "not found: try / or /metrics\n")
        }
    }

    /// The pages show the stored state of the accounts in the config, over 30 days; a
    /// page view reads the database (the overview once per pass) and never logs into IMAP.
    private func overview(_ database: AppDatabase) throws -> HTMLPages.Overview {
        if let cachedOverview { return cachedOverview }
        let now = Date()
        let overview = try HTMLPages.overview(database, accounts: Set(config.accounts.map(\.id)), locale: config.defaults.locale,
                                              since: now.addingTimeInterval(-30 * 86400), now: now, details: false)
        cachedOverview = overview
        return overview
    }

    /// An HTML page from the database: 404 when `render` finds nothing, 503 before the
    /// first pass created the database, 500 (reason logged) when it cannot be read.
    private func page(_ render: (AppDatabase) throws -> String?) -> MetricsHTTPServer.Response {
        guard database != nil || FileManager.default.fileExists(atPath: config.database) else {
            return .init(status: 503, body: "first pass not finished\n")
        }
        do {
            guard let html = try render(try openDatabase()) else { return .init(status: 404, body: "no such account\n") }
            return .init(status: 200, contentType: "text/html; charset=utf-8", body: html,
                         headers: [("Content-Security-Policy", HTMLPages.contentSecurityPolicy + "; frame-ancestors 'none'"),
                                   ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")])
        } catch {
            logger.error("page: cannot read the database", metadata: ["error": "\(error)"])
            return .init(status: 500, body: "cannot read the database (see mailgauge's log)\n")
        }
    }
}

struct HTTPService: Service {
    let server: MetricsHTTPServer
    let onBound: @Sendable (Int) -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await server.run(onBound: onBound) }
    }
}

/// One pass, then sleep until the next; a pass never starts while one runs.
struct SchedulerService: Service {
    let state: ServeState
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let config = await state.config
            let started = Date()
            // On SIGTERM the pass is cancelled; RunJob.pass then stores nothing.
            let result = await cancelWhenGracefulShutdown {
                await RunJob.pass(config: config, progressBar: false, retryBackoffSeconds: 2, keepState: true, logger: logger)
            }
            for line in result.alertLines { logger.notice("\(line)") }
            logger.notice("\(result.message)")
            await state.passFinished(stored: result.summary != nil, state: result.state)
            let wait = max(1, config.schedule.intervalSeconds - Date().timeIntervalSince(started))
            _ = await cancelWhenGracefulShutdown { try? await Task.sleep(for: .seconds(wait)) }
        }
    }
}

struct ReloadService: Service {
    let state: ServeState
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await state.reload(logger: logger)
        }
    }
}
