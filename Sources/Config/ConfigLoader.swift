public import Foundation
import Yams

/// Reads and validates a config file. All problems are collected and thrown together,
/// each with file:line:column and key; warnings (unsafe permissions) are returned.
public enum ConfigLoader {
    public struct Loaded: Sendable {
        public var config: MailGaugeConfig
        public var warnings: [ConfigWarning]
    }

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Loaded {
        let absolute = absolutePath(path, relativeTo: FileManager.default.currentDirectoryPath)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: 0, column: 0, key: "", message: "cannot read the config file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(errors: [ConfigError(file: path, line: 1, column: 1, key: "", message: "not UTF-8 text")])
        }
        return try parse(yaml: text, path: absolute, displayPath: path, environment: environment)
    }

    public static func parse(yaml text: String, path: String, displayPath: String? = nil,
                             environment: [String: String] = [:]) throws -> Loaded {
        let shown = displayPath ?? path
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigErrors(errors: [ConfigError(file: shown, line: 1, column: 1, key: "", message: "the file is empty")])
            }
            root = node
        } catch let error as YamlError {
            throw ConfigErrors(errors: [yamlError(error, file: shown)])
        }
        let builder = Builder(reader: YAMLReader(file: shown), baseDirectory: directory(of: path), environment: environment)
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
    var warnings: [ConfigWarning] = []

    init(reader: YAMLReader, baseDirectory: String, environment: [String: String]) {
        self.reader = reader
        self.baseDirectory = baseDirectory
        self.environment = environment
    }

    static let topKeys = ["database", "concurrency", "lock_wait", "account_timeout", "servers", "defaults", "accounts",
                          "accounts_file", "master", "folders", "metrics", "alerts", "retention", "schedule"]
    static let serverKeys = ["host", "port", "tls", "ca_file", "timeout", "max_connections", "max_folders",
                             "max_responses_per_command", "auth", "method",
                             "warning", "critical", "forecast_horizon", "min_free"]
    static let defaultsKeys = ["server", "warning", "critical", "forecast_horizon", "min_free", "locale", "notify_owner"]
    static let secretKeys = ["password_file", "password_env", "password_command", "password_credential", "token_file"]
    static let accountKeys = ["id", "user", "server", "auth", "warning", "critical", "forecast_horizon", "min_free",
                              "owner_email", "locale", "notify_owner"] + secretKeys
    static let masterKeys = ["user", "mode", "users_file", "server"] + secretKeys.filter { $0 != "token_file" }
    static let authChoices = ["auto", "login", "plain", "xoauth2", "oauthbearer"]
    static let methodChoices = ["auto", "list-status", "status", "fetch"]

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
        if accounts.isEmpty && reader.errors.isEmpty {
            reader.error(root, "accounts", "no accounts: add accounts, accounts_file or master.users_file")
        }

        let folders = buildFolders(top["folders"]?.value)
        let metrics = buildMetrics(top["metrics"]?.value)
        let alerts = buildAlerts(top["alerts"]?.value)
        let retention = buildRetention(top["retention"]?.value)
        let schedule = buildSchedule(top["schedule"]?.value)
        checkConfigPermissions(configPath)
        return MailGaugeConfig(path: configPath, database: database, concurrency: concurrency, lockWaitSeconds: lockWait,
                               accountTimeoutSeconds: accountTimeout, servers: servers, defaults: defaults, accounts: accounts,
                               folders: folders, metrics: metrics, alerts: alerts, retention: retention, schedule: schedule)
    }

    // MARK: - Sections

    func buildServer(name: String, _ node: Node) -> ServerConfig? {
        let p = "servers.\(name)"
        let m = reader.mapping(node, p, allowed: Self.serverKeys)
        guard let hostNode = m["host"] else {
            reader.error(node, "\(p).host", "missing (the IMAP server's host name)")
            return nil
        }
        let tls = m["tls"].flatMap { reader.oneOf($0.value, "\(p).tls", TLSMode.allCases.map(\.rawValue)) }.flatMap(TLSMode.init) ?? .implicit
        return ServerConfig(
            name: name,
            host: reader.string(hostNode.value, "\(p).host") ?? "",
            port: m["port"].flatMap { reader.int($0.value, "\(p).port", range: 1...65535) } ?? (tls == .implicit ? 993 : 143),
            tls: tls,
            caFile: m["ca_file"].flatMap { reader.isNull($0.value) ? nil : reader.string($0.value, "\(p).ca_file").map(path) },
            timeoutSeconds: m["timeout"].flatMap { reader.duration($0.value, "\(p).timeout", range: 1...3600) ?? nil } ?? 30,
            maxConnections: m["max_connections"].flatMap { reader.int($0.value, "\(p).max_connections", range: 1...1024) } ?? 8,
            maxFolders: m["max_folders"].flatMap { reader.int($0.value, "\(p).max_folders", range: 1...1_000_000) } ?? 10_000,
            maxResponsesPerCommand: m["max_responses_per_command"].flatMap {
                reader.int($0.value, "\(p).max_responses_per_command", range: 100...100_000_000)
            } ?? 2_000_000,
            auth: m["auth"].flatMap { reader.oneOf($0.value, "\(p).auth", Self.authChoices) } ?? "auto",
            method: m["method"].flatMap { reader.oneOf($0.value, "\(p).method", Self.methodChoices) } ?? "auto",
            thresholds: thresholds(m, p))
    }

    func thresholds(_ m: [String: (key: Node, value: Node)], _ p: String) -> ThresholdOverrides {
        ThresholdOverrides(
            warning: m["warning"].flatMap { reader.percent($0.value, "\(p).warning") },
            critical: m["critical"].flatMap { reader.percent($0.value, "\(p).critical") },
            forecastHorizonSeconds: m["forecast_horizon"].flatMap { reader.duration($0.value, "\(p).forecast_horizon", range: 60...366 * 86400) ?? nil },
            minFreeBytes: m["min_free"].flatMap { reader.size($0.value, "\(p).min_free") })
    }

    func buildDefaults(_ node: Node?, servers: [String: ServerConfig]) -> Defaults {
        let m = node.map { reader.mapping($0, "defaults", allowed: Self.defaultsKeys) } ?? [:]
        var server = m["server"].flatMap { reader.string($0.value, "defaults.server") }
        if let s = server, servers[s] == nil, let n = m["server"] {
            let hint = Suggestion.nearest(to: s, in: Array(servers.keys)).map { " (did you mean '\($0)'?)" } ?? ""
            reader.error(n.value, "defaults.server", "no server named '\(s)' under servers\(hint)")
            server = nil
        }
        if server == nil, servers.count == 1 { server = servers.keys.first }
        let t = thresholds(m, "defaults")
        let warning = t.warning ?? 0.80, critical = t.critical ?? 0.95
        if warning > critical, let n = m["warning"] {
            reader.error(n.value, "defaults.warning", "warning (\(Int(warning * 100))%) must not be above critical (\(Int(critical * 100))%)")
        }
        return Defaults(server: server, warning: warning, critical: critical,
                        forecastHorizonSeconds: t.forecastHorizonSeconds ?? 7 * 86400, minFreeBytes: t.minFreeBytes,
                        locale: m["locale"].flatMap { reader.oneOf($0.value, "defaults.locale", ["en", "zh-CN"]) } ?? "en",
                        notifyOwner: m["notify_owner"].flatMap { reader.bool($0.value, "defaults.notify_owner") } ?? false)
    }

    /// Exactly one secret source per login; files must exist (checked now, so a typo in a
    /// path is a config error with its line, not a failed probe at 3 a.m.).
    func secret(_ m: [String: (key: Node, value: Node)], _ p: String, owner: Node, allowToken: Bool = true) -> (SecretSource, Bool)? {
        let given = Self.secretKeys.filter { m[$0] != nil && (allowToken || $0 != "token_file") }
        guard given.count == 1, let key = given.first, let entry = m[key] else {
            if given.isEmpty {
                reader.error(owner, p, "no secret: give one of \(Self.secretKeys.filter { allowToken || $0 != "token_file" }.joined(separator: ", "))")
            } else {
                reader.error(m[given[1]]!.key, "\(p).\(given[1])", "only one secret source allowed, \(given.joined(separator: " and ")) given")
            }
            return nil
        }
        guard let value = reader.string(entry.value, "\(p).\(key)") else { return nil }
        switch key {
        case "password_file", "token_file":
            let file = path(value)
            checkSecretFile(file, node: entry.value, keyPath: "\(p).\(key)")
            return (.file(file), key == "token_file")
        case "password_env":
            if environment[value] == nil {
                warnings.append(ConfigWarning(location: "\(reader.location(entry.value)) \(p).\(key)",
                                              message: "environment variable \(value) is not set now"))
            }
            return (.env(value), false)
        case "password_credential":
            return (.credential(value), false)
        default:
            return (.command(value), false)
        }
    }

    func checkSecretFile(_ file: String, node: Node, keyPath: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
            reader.error(node, keyPath, "secret file \(file) does not exist")
            return
        }
        guard FileManager.default.isReadableFile(atPath: file) else {
            reader.error(node, keyPath, "secret file \(file) is not readable by this user")
            return
        }
        if let mode = (try? FileManager.default.attributesOfItem(atPath: file))?[.posixPermissions] as? Int, mode & 0o004 != 0 {
            warnings.append(ConfigWarning(location: "\(reader.location(node)) \(keyPath)",
                                          message: "secret file \(file) is readable by every user (chmod o-r)"))
        }
    }

    func checkConfigPermissions(_ configPath: String) {
        refuseIfWritableByOthers(configPath, key: "", what: "the config")
    }

    /// Files that can carry commands or secrets (the config, an accounts CSV, notice
    /// templates) are refused when others may write them: whoever can write one could
    /// point password_command at their own program, or rewrite what owners are told.
    func refuseIfWritableByOthers(_ path: String, key: String, what: String) {
        guard let mode = FilePermissions.mode(path), mode & 0o022 != 0 else { return }
        reader.error(file: path, line: 1, column: 1, key: key,
                     message: "\(what) is writable by \(mode & 0o002 != 0 ? "every user" : "its group") (mode \(String(mode & 0o777, radix: 8))): refused; run chmod go-w \(path)")
    }

    /// The templates directory; it and every template in it must not be writable by others.
    func templatesDir(_ entry: (key: Node, value: Node)?, _ keyPath: String) -> String? {
        guard let entry, let dir = reader.string(entry.value, keyPath).map(path) else { return nil }
        refuseIfWritableByOthers(dir, key: keyPath, what: "the templates directory")
        let files = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []
        for file in files.sorted() {
            refuseIfWritableByOthers((dir as NSString).appendingPathComponent(file), key: keyPath, what: "the template or folder")
        }
        return dir
    }

    func serverName(_ m: [String: (key: Node, value: Node)], _ p: String, defaults: Defaults, servers: [String: ServerConfig], owner: Node) -> String? {
        if let n = m["server"] {
            guard let name = reader.string(n.value, "\(p).server") else { return nil }
            guard servers[name] != nil else {
                let hint = Suggestion.nearest(to: name, in: Array(servers.keys)).map { " (did you mean '\($0)'?)" } ?? ""
                reader.error(n.value, "\(p).server", "no server named '\(name)' under servers\(hint)")
                return nil
            }
            return name
        }
        guard let name = defaults.server else {
            reader.error(owner, "\(p).server", servers.isEmpty ? "no servers defined" : "no server given and no defaults.server")
            return nil
        }
        return name
    }

    func buildAccount(_ node: Node, _ p: String, defaults: Defaults, servers: [String: ServerConfig]) -> AccountConfig? {
        let m = reader.mapping(node, p, allowed: Self.accountKeys)
        guard let userNode = m["user"] else {
            reader.error(node, "\(p).user", "missing (the mailbox login)")
            return nil
        }
        guard let user = reader.string(userNode.value, "\(p).user"), !user.isEmpty else { return nil }
        let id = m["id"].flatMap { reader.string($0.value, "\(p).id") } ?? user
        guard let server = serverName(m, p, defaults: defaults, servers: servers, owner: node),
              let (secret, isToken) = secret(m, p, owner: node) else { return nil }
        var auth = m["auth"].flatMap { reader.oneOf($0.value, "\(p).auth", Self.authChoices) } ?? servers[server]?.auth ?? "auto"
        if isToken, auth == "auto" { auth = "xoauth2" }
        return AccountConfig(
            id: id, user: user, server: server, loginUser: user, authorizationID: nil, secret: secret, secretIsToken: isToken,
            auth: auth, thresholds: thresholds(m, p),
            ownerEmail: m["owner_email"].flatMap { reader.string($0.value, "\(p).owner_email") },
            locale: m["locale"].flatMap { reader.oneOf($0.value, "\(p).locale", ["en", "zh-CN"]) },
            notifyOwner: m["notify_owner"].flatMap { reader.bool($0.value, "\(p).notify_owner") },
            definedAt: reader.location(node))
    }

    /// One admin login reaches many mailboxes: Dovecot master users log in with SASL
    /// PLAIN, authzid = the mailbox owner, authcid = the master user.
    func buildMaster(_ node: Node, defaults: Defaults, servers: [String: ServerConfig]) -> [AccountConfig] {
        let m = reader.mapping(node, "master", allowed: Self.masterKeys)
        guard let userNode = m["user"], let masterUser = reader.string(userNode.value, "master.user") else {
            reader.error(node, "master.user", "missing (the master/admin login)")
            return []
        }
        _ = m["mode"].flatMap { reader.oneOf($0.value, "master.mode", ["dovecot_master"]) }
        guard let server = serverName(m, "master", defaults: defaults, servers: servers, owner: node),
              let (secret, _) = secret(m, "master", owner: node, allowToken: false) else { return [] }
        guard let usersNode = m["users_file"], let usersFile = reader.string(usersNode.value, "master.users_file") else {
            reader.error(node, "master.users_file", "missing (one mailbox login per line)")
            return []
        }
        let file = path(usersFile)
        guard let data = FileManager.default.contents(atPath: file) else {
            reader.error(usersNode.value, "master.users_file", "cannot read \(file)")
            return []
        }
        var accounts: [AccountConfig] = []
        for (index, raw) in String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmingSpaces ?? ""
            if line.isEmpty { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count <= 2 else {
                reader.error(file: file, line: index + 1, column: 1, key: "master.users_file",
                             message: "expected 'login' or 'login id' on a line, found \(fields.count) fields")
                continue
            }
            accounts.append(AccountConfig(
                id: fields.count == 2 ? fields[1] : fields[0], user: fields[0], server: server, loginUser: masterUser,
                authorizationID: fields[0], secret: secret, secretIsToken: false, auth: "plain", thresholds: ThresholdOverrides(),
                ownerEmail: nil, locale: nil, notifyOwner: nil, definedAt: "\(file):\(index + 1)"))
        }
        return accounts
    }

    func checkUniqueIDs(_ accounts: [AccountConfig], node: Node) {
        var seen: [String: String] = [:]
        for account in accounts {
            if let first = seen[account.id] {
                reader.error(node, "accounts", "account id '\(account.id)' defined twice: \(first) and \(account.definedAt)")
            } else {
                seen[account.id] = account.definedAt
            }
        }
    }

    func buildFolders(_ node: Node?) -> FolderExport {
        let m = node.map { reader.mapping($0, "folders", allowed: ["export", "top_n"]) } ?? [:]
        return FolderExport(
            export: m["export"].flatMap { reader.oneOf($0.value, "folders.export", FolderExport.Mode.allCases.map(\.rawValue)) }
                .flatMap(FolderExport.Mode.init) ?? .top,
            topN: m["top_n"].flatMap { reader.int($0.value, "folders.top_n", range: 1...10000) } ?? 10)
    }

    func buildMetrics(_ node: Node?) -> Metrics {
        let m = node.map { reader.mapping($0, "metrics", allowed: ["textfile", "listen"]) } ?? [:]
        return Metrics(textfile: m["textfile"].flatMap { reader.string($0.value, "metrics.textfile") }.map(path),
                       listen: m["listen"].flatMap { reader.string($0.value, "metrics.listen") } ?? "127.0.0.1:9786")
    }

    func buildAlerts(_ node: Node?) -> Alerts {
        let p = "alerts"
        let m = node.map { reader.mapping($0, p, allowed: ["repeat_interval", "hysteresis", "probe_failing_runs", "stdout",
                                                            "stdout_format", "email", "webhook"]) } ?? [:]
        var email: Alerts.Email?
        if let e = m["email"] { email = buildEmail(e.value) }
        var webhooks: [Alerts.Webhook] = []
        if let w = m["webhook"] {
            let nodes: [Node] = if case .sequence = w.value { reader.sequence(w.value, "\(p).webhook") } else { [w.value] }
            for (i, n) in nodes.enumerated() {
                let wp = nodes.count == 1 ? "\(p).webhook" : "\(p).webhook[\(i)]"
                let wm = reader.mapping(n, wp, allowed: ["url", "format", "timeout"])
                guard let url = wm["url"].flatMap({ reader.string($0.value, "\(wp).url") }) else {
                    reader.error(n, "\(wp).url", "missing")
                    continue
                }
                webhooks.append(Alerts.Webhook(
                    url: url, format: wm["format"].flatMap { reader.oneOf($0.value, "\(wp).format", ["json", "alertmanager"]) } ?? "json",
                    timeoutSeconds: wm["timeout"].flatMap { reader.duration($0.value, "\(wp).timeout", range: 1...600) ?? nil } ?? 10))
            }
        }
        return Alerts(
            repeatIntervalSeconds: m["repeat_interval"].flatMap { reader.duration($0.value, "\(p).repeat_interval", range: 1...366 * 86400) ?? nil } ?? 86400,
            hysteresis: m["hysteresis"].flatMap { reader.percent($0.value, "\(p).hysteresis") } ?? 0.02,
            probeFailingRuns: m["probe_failing_runs"].flatMap { reader.int($0.value, "\(p).probe_failing_runs", range: 1...1000) } ?? 3,
            stdout: m["stdout"].flatMap { reader.bool($0.value, "\(p).stdout") } ?? true,
            stdoutFormat: m["stdout_format"].flatMap { reader.oneOf($0.value, "\(p).stdout_format", ["text", "json"]) } ?? "text",
            email: email, webhooks: webhooks)
    }

    func buildEmail(_ node: Node) -> Alerts.Email? {
        let p = "alerts.email"
        let m = reader.mapping(node, p, allowed: ["smtp", "sendmail", "from", "to", "notify_owner", "templates_dir"])
        var smtp: Alerts.SMTP?
        if let s = m["smtp"] {
            let sp = "\(p).smtp"
            let sm = reader.mapping(s.value, sp, allowed: ["host", "port", "tls", "user", "ca_file", "timeout"] + Self.secretKeys.filter { $0 != "token_file" })
            let tls = sm["tls"].flatMap { reader.oneOf($0.value, "\(sp).tls", TLSMode.allCases.map(\.rawValue)) }.flatMap(TLSMode.init) ?? .starttls
            let user = sm["user"].flatMap { reader.string($0.value, "\(sp).user") }
            smtp = Alerts.SMTP(
                host: sm["host"].flatMap { reader.string($0.value, "\(sp).host") } ?? { reader.error(s.value, "\(sp).host", "missing"); return "" }(),
                port: sm["port"].flatMap { reader.int($0.value, "\(sp).port", range: 1...65535) } ?? (tls == .implicit ? 465 : 587),
                tls: tls, user: user,
                secret: user == nil ? nil : secret(sm, sp, owner: s.value, allowToken: false)?.0,
                caFile: sm["ca_file"].flatMap { reader.string($0.value, "\(sp).ca_file") }.map(path),
                timeoutSeconds: sm["timeout"].flatMap { reader.duration($0.value, "\(sp).timeout", range: 1...600) ?? nil } ?? 30)
        }
        let sendmail = m["sendmail"].flatMap { reader.string($0.value, "\(p).sendmail") }
        if smtp == nil && sendmail == nil { reader.error(node, p, "give smtp or sendmail") }
        guard let from = m["from"].flatMap({ reader.string($0.value, "\(p).from") }) else {
            reader.error(node, "\(p).from", "missing (the sender address)")
            return nil
        }
        return Alerts.Email(smtp: smtp, sendmail: sendmail, from: from,
                            to: m["to"].map { reader.stringList($0.value, "\(p).to") } ?? [],
                            notifyOwner: m["notify_owner"].flatMap { reader.bool($0.value, "\(p).notify_owner") } ?? false,
                            templatesDir: templatesDir(m["templates_dir"], "\(p).templates_dir"))
    }

    func buildRetention(_ node: Node?) -> Retention {
        let m = node.map { reader.mapping($0, "retention", allowed: ["raw", "hourly", "daily"]) } ?? [:]
        func d(_ key: String, _ fallback: Double?) -> Double? {
            guard let n = m[key] else { return fallback }
            return reader.duration(n.value, "retention.\(key)", range: 1...100 * 366 * 86400, allowForever: true) ?? fallback
        }
        return Retention(rawSeconds: d("raw", 35 * 86400), hourlySeconds: d("hourly", 400 * 86400), dailySeconds: d("daily", nil))
    }

    func buildSchedule(_ node: Node?) -> Schedule {
        let m = node.map { reader.mapping($0, "schedule", allowed: ["interval"]) } ?? [:]
        return Schedule(intervalSeconds: m["interval"].flatMap { reader.duration($0.value, "schedule.interval", range: 1...7 * 86400) ?? nil } ?? 900)
    }
}
