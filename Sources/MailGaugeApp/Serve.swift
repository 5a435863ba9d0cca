import Config
import Exposition
import Foundation
public import Logging
import MailGaugeCore
public import Presentation
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

/// The configuration in force, the reload gauges, and what `serve` answers with.
///
/// Every answer built from the database (`/metrics`, `/`, an account's page) is rendered
/// off this actor, in a task of its own, so a slow page never holds a scrape behind it;
/// `/metrics` and `/` are rendered once per pass (or reload) and their bytes served to
/// every request after, as one shared buffer. Stored state only changes in a pass, so
/// nothing newer exists until the next one.
actor ServeState {
    typealias Response = MetricsHTTPServer.Response
    let configPath: String
    private(set) var config: MailGaugeConfig
    private var reloadOK = true
    private var reloadTime = Date()
    private var database: AppDatabase?
    private var ready = false
    /// The answers rendered since the last pass or reload, by path (`/metrics`, `/`,
    /// `overview`: the pages' data, read once and shared by the account pages).
    private var rendered: [String: Task<Response, Never>] = [:]
    private var overviewData: Task<Result<HTMLPages.Overview, any Error>, Never>?
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
            reloadOK = true
            reloadTime = Date()
            logger.info("config reloaded", metadata: ["accounts": "\(config.accounts.count)"])
        } catch {
            reloadOK = false
            logger.error("config reload failed; keeping the previous config", metadata: ["error": "\(error)"])
        }
        forgetRendered()
    }

    /// A pass finished: ready, and the stored state changed. `/metrics` is rendered now,
    /// from the state the pass read for its alerts (off this actor), and served from then on.
    func passFinished(stored: Bool, state: StoredState?) {
        if stored { ready = true }
        forgetRendered()
        if let state {
            let config = self.config, gauges = reloadGauges()
            rendered["/metrics"] = Task.detached { Self.metrics(Metrics.render(state, config: config, extraGauges: gauges)) }
        }
    }

    private func forgetRendered() {
        rendered = [:]
        overviewData = nil
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

    static func metrics(_ text: String) -> Response {
        .init(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
    }

    func respond(_ path: String) async -> Response {
        switch path {
        case "/metrics":
            // Before the first pass has created the database, do not create it from
            // here (two migrations at once would race): export only what we know.
            guard database != nil || FileManager.default.fileExists(atPath: config.database) else {
                return Self.metrics(Metrics.renderWithoutDatabase(extraGauges: reloadGauges()))
            }
            let config = self.config, gauges = reloadGauges(), logger = self.logger
            return await cached("/metrics") { (database: AppDatabase) -> Response in
                do {
                    return Self.metrics(try Metrics.render(database, config: config, extraGauges: gauges))
                } catch {
                    // The reason goes to the log, not to whoever scrapes (paths, SQL).
                    logger.error("metrics: cannot read the database", metadata: ["error": "\(error)"])
                    return .init(status: 500, body: "cannot read the database (see mailgauge's log)\n")
                }
            }
        case "/", "/index.html":
            guard let overview = await overview() else { return Self.notReady }
            let logger = self.logger
            return await cached("/") { _ in Self.page(logger) { HTMLPages.overviewPage(try overview.get()) } }
        case let p where p.hasPrefix("/account/"):
            guard let id = String(p.dropFirst("/account/".count)).removingPercentEncoding, !id.isEmpty else {
                return .init(status: 404, body: "not found\n")
            }
            guard let overview = await overview(), let database = try? openDatabase() else { return Self.notReady }
            // One account's page: not cached (there are as many as accounts), but rendered
            // off this actor like the rest.
            let logger = self.logger
            return await Task.detached {
                Self.page(logger) {
                    let overview = try overview.get()
                    guard let account = try HTMLPages.accountPage(id, in: overview, database: database) else { return nil }
                    return HTMLPages.accountPage(account, overview)
                }
            }.value
        case "/-/healthy":
            return .init(status: 200, body: "OK\n")
        case "/-/ready":
            return ready ? .init(status: 200, body: "OK\n") : .init(status: 503, body: "first pass not finished\n")
        default:
            return .init(status: 404, body: "not found: try / or /metrics\n")
        }
    }

    static let notReady = Response(status: 503, body: "first pass not finished\n")

    /// The answer for `key` rendered once (off this actor) and shared; one that failed is
    /// not kept, so the next request tries again.
    private func cached(_ key: String, _ render: @escaping @Sendable (AppDatabase) -> Response) async -> Response {
        if let task = rendered[key] { return await task.value }
        let database: AppDatabase
        do { database = try openDatabase() } catch {
            logger.error("cannot open the database", metadata: ["error": "\(error)"])
            return .init(status: 500, body: "cannot read the database (see mailgauge's log)\n")
        }
        let task = Task.detached { render(database) }
        rendered[key] = task
        let response = await task.value
        if response.status != 200, rendered[key] == task { rendered[key] = nil }
        return response
    }

    /// The pages show the stored state of the accounts in the config, over 30 days; read
    /// once per pass (off this actor) and never by logging into IMAP. Nil before the
    /// first pass created the database.
    private func overview() async -> Result<HTMLPages.Overview, any Error>? {
        guard database != nil || FileManager.default.fileExists(atPath: config.database) else { return nil }
        let task: Task<Result<HTMLPages.Overview, any Error>, Never>
        if let running = overviewData {
            task = running
        } else {
            let accounts = Set(config.accounts.map(\.id)), locale = DisplayLocale(config.defaults.locale)
            let database = Result { try openDatabase() }
            task = Task.detached {
                let now = Date()
                return Result {
                    try HTMLPages.overview(try database.get(), accounts: accounts, locale: locale,
                                           since: now.addingTimeInterval(-30 * 86400), now: now, details: false)
                }
            }
            overviewData = task
        }
        let result = await task.value
        if case .failure = result, overviewData == task { overviewData = nil }
        return result
    }

    /// An HTML page: 404 when `render` finds nothing, 500 (reason logged) when the
    /// database cannot be read.
    private static func page(_ logger: Logger, _ render: () throws -> String?) -> Response {
        do {
            guard let html = try render() else { return .init(status: 404, body: "no such account\n") }
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
