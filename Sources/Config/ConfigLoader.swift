public import Foundation
import Yams

/// Reads and validates a config file. All problems are collected and thrown together,
/// each with file:line:column and key; warnings (unsafe permissions) are returned.
public enum ConfigLoader {
    public struct Loaded: Sendable {
        public var config: MailGaugeConfig
        public var warnings: [ConfigWarning]
    }

    /// What the config is read for. A reader (`report`, `history`, `check` of stored
    /// state) never logs in, so the secrets need not be readable by its user (an Icinga
    /// or NRPE user reads the history, not the passwords).
    public enum Purpose: Sendable {
        case probe, read
    }

    /// `shard`: this agent's share, overriding the config's `shard:` (`run --shard K/N`).
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            purpose: Purpose = .probe, shard: Shard? = nil) throws -> Loaded {
        let absolute = absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: 0, column: 0, key: "", message: "cannot read the config file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: 1, column: 1, key: "", message: "not UTF-8 text")])
        }
        return try parse(yaml: text, path: absolute, displayPath: path, environment: environment, purpose: purpose, shard: shard)
    }

    public static func parse(yaml text: String, path: String, displayPath: String? = nil,
                             environment: [String: String] = [:], purpose: Purpose = .probe, shard: Shard? = nil) throws -> Loaded {
        let shown = displayPath ?? path
        let root: Node
        do {
            // The basic resolver: every scalar is read as text by YAMLReader, which never
            // looks at YAML's implicit tags; the default resolver compiles a dozen regular
            // expressions on ICU (megabytes of its tables paged in) to set them.
            guard let node = try Yams.compose(yaml: text, .basic) else {
                throw ConfigErrors(errors: [ConfigError(file: shown, line: 1, column: 1, key: "", message: "the file is empty")])
            }
            root = node
        } catch let error as YamlError {
            throw ConfigErrors(errors: [yamlError(error, file: shown)])
        }
        let builder = Builder(reader: YAMLReader(file: shown), baseDirectory: directory(of: path), environment: environment,
                              checksSecrets: purpose == .probe)
        builder.shardOverride = shard
        let config = builder.build(root, path: path)
        if let config, builder.reader.errors.isEmpty {
            return Loaded(config: config, warnings: builder.warnings)
        }
        throw ConfigErrors(errors: builder.reader.errors)
    }

    static func yamlError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, key: "", message: "YAML syntax: \(problem)")
        default:
            return ConfigError(file: file, line: 1, column: 1, key: "", message: "YAML: \(error)")
        }
    }

    static func directory(of path: String) -> String {
        (path as NSString).deletingLastPathComponent
    }

    static func absolutePath(_ path: String, relativeTo base: String) -> String {
        path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
    }
}

/// Builds the typed config from the node tree.
final class Builder {
    let reader: YAMLReader
    let baseDirectory: String
    let environment: [String: String]
    /// Whether secret files must exist and be readable now (not for readers).
    let checksSecrets: Bool
    /// `run --shard K/N`, in place of the config's `shard:`.
    var shardOverride: Shard?
    var warnings: [ConfigWarning] = []

    init(reader: YAMLReader, baseDirectory: String, environment: [String: String], checksSecrets: Bool = true) {
        self.reader = reader
        self.baseDirectory = baseDirectory
        self.environment = environment
        self.checksSecrets = checksSecrets
    }

    static let topKeys = ["database", "concurrency", "lock_wait", "account_timeout", "servers", "defaults", "accounts",
                          "accounts_file", "master", "owners_file", "folders", "metrics", "alerts", "retention", "schedule", "shard"]
    static let serverKeys = ["host", "port", "tls", "ca_file", "timeout", "max_connections", "max_folders",
                             "max_responses_per_command", "auth", "method",
                             "warning", "critical", "forecast_horizon", "min_free", "owner_email"]
    static let defaultsKeys = ["server", "warning", "critical", "forecast_horizon", "min_free", "locale", "notify_owner", "owner_email"]
    static let secretKeys = ["password_file", "password_env", "password_command", "password_credential", "token_file"]
    static let accountKeys = ["id", "user", "server", "auth", "warning", "critical", "forecast_horizon", "min_free",
                              "owner_email", "locale", "notify_owner"] + secretKeys
    static let masterKeys = ["user", "mode", "users_file", "server", "doveadm"] + secretKeys.filter { $0 != "token_file" }
    static let doveadmKeys = ["url", "ca_file", "interval", "timeout", "method", "insecure_plaintext"] + apiKeyKeys
    /// The doveadm API key's sources: the password ones, named for what they hold.
    static let apiKeyKeys = ["api_key_file", "api_key_env", "api_key_command", "api_key_credential"]

    func path(_ value: String) -> String {
        ConfigLoader.absolutePath(value, relativeTo: baseDirectory)
    }

    func build(_ root: Node, path configPath: String) -> MailGaugeConfig? {
        let top = reader.mapping(root, "", allowed: Self.topKeys)
        let database = top["database"].flatMap { reader.string($0.value, "database") }.map(path)
            ?? "/var/lib/mailgauge/mailgauge.sqlite"
        let concurrency = top["concurrency"].flatMap { reader.int($0.value, "concurrency", range: 1...1024) } ?? 16
        let lockWait = top["lock_wait"].flatMap { reader.duration($0.value, "lock_wait", range: 0...86400) ?? nil } ?? 0
        let accountTimeout = top["account_timeout"].flatMap { reader.duration($0.value, "account_timeout", range: 1...86400) ?? nil } ?? 300

        var servers: [String: ServerConfig] = [:]
        if let s = top["servers"] {
            guard case .mapping(let m) = s.value else {
                reader.error(s.value, "servers", "expected a mapping of server names to settings")
                return nil
            }
            for (key, value) in m {
                guard let name = reader.string(key, "servers") else { continue }
                if let server = buildServer(name: name, value) { servers[name] = server }
            }
        }
        let defaults = buildDefaults(top["defaults"]?.value, servers: servers)

        var accounts: [AccountConfig] = []
        if let a = top["accounts"] {
            for (i, node) in reader.sequence(a.value, "accounts").enumerated() {
                if let account = buildAccount(node, "accounts[\(i)]", defaults: defaults, servers: servers) { accounts.append(account) }
            }
        }
        if let f = top["accounts_file"], let file = reader.string(f.value, "accounts_file") {
            accounts += CSVAccounts.load(path: path(file), node: f.value, reader: reader, builder: self, defaults: defaults, servers: servers)
        }
        if let m = top["master"] {
            accounts += buildMaster(m.value, defaults: defaults, servers: servers)
        }
        checkUniqueIDs(accounts, node: top["accounts"]?.value ?? root)
        var owners: [String: String] = [:]
        if let entry = top["owners_file"] {
            owners = loadOwners(entry)
        }
        accounts = resolveOwners(accounts, owners: owners, servers: servers, defaults: defaults.ownerEmail)
        if accounts.isEmpty && reader.errors.isEmpty {
            reader.error(root, "accounts", "no accounts: add accounts, accounts_file or master.users_file")
        }

        let folders = buildFolders(top["folders"]?.value)
        let metrics = buildMetrics(top["metrics"]?.value)
        let alerts = buildAlerts(top["alerts"]?.value)
        let retention = buildRetention(top["retention"]?.value)
        let schedule = buildSchedule(top["schedule"]?.value)
        checkConfigPermissions(configPath)
        var shard: Shard?
        if let node = top["shard"], let text = reader.string(node.value, "shard") {
            shard = Shard(parsing: text)
            if shard == nil { reader.error(node.value, "shard", "expected K/N with 1 ≤ K ≤ N ≤ \(Shard.maximumCount), e.g. 1/4") }
        }
        var config = MailGaugeConfig(path: configPath, database: database, concurrency: concurrency, lockWaitSeconds: lockWait,
                                     accountTimeoutSeconds: accountTimeout, servers: servers, defaults: defaults, accounts: accounts,
                                     folders: folders, metrics: metrics, alerts: alerts, retention: retention, schedule: schedule)
        config.listedAccountCount = accounts.count
        if let shard = shardOverride ?? shard { config.applyShard(shard) }
        return config
    }
}
