import Foundation
import Yams

extension Builder {
    /// Exactly one secret source per login; files must exist (checked now, so a typo in a
    /// path is a config error with its line, not a failed probe at 3 a.m.).
    /// `keys`: the secret keys allowed here (the doveadm API key has its own names).
    func secret(_ m: [String: (key: Node, value: Node)], _ p: String, owner: Node, allowToken: Bool = true,
                keys: [String] = secretKeys) -> (SecretSource, Bool)? {
        let allowed = keys.filter { allowToken || $0 != "token_file" }
        let given = allowed.filter { m[$0] != nil }
        guard given.count == 1, let key = given.first, let entry = m[key] else {
            if given.isEmpty {
                reader.error(owner, p, "no secret: give one of \(allowed.joined(separator: ", "))")
            } else {
                reader.error(m[given[1]]!.key, "\(p).\(given[1])", "only one secret source allowed, \(given.joined(separator: " and ")) given")
            }
            return nil
        }
        guard let value = reader.string(entry.value, "\(p).\(key)") else { return nil }
        switch key.replacingOccurrences(of: "api_key_", with: "password_") {
        case "password_file", "token_file":
            let file = path(value)
            if checksSecrets { checkSecretFile(file, node: entry.value, keyPath: "\(p).\(key)") }
            return (.file(file), key == "token_file")
        case "password_env":
            if checksSecrets, environment[value] == nil {
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
        var auth = m["auth"].flatMap { reader.choice($0.value, "\(p).auth", AuthMethod.self) } ?? servers[server]?.auth ?? .auto
        if isToken, auth == .auto { auth = .xoauth2 }
        return AccountConfig(
            id: id, user: user, server: server, loginUser: user, authorizationID: nil, secret: secret, secretIsToken: isToken,
            auth: auth, thresholds: thresholds(m, p),
            // Given but not expandable for this login ({domain} of a bare login): "" says
            // "no address" rather than falling through to a template further out.
            ownerEmail: ownerTemplate(m["owner_email"], "\(p).owner_email").map { $0.address(login: user) ?? "" },
            locale: m["locale"].flatMap { reader.oneOf($0.value, "\(p).locale", ["en", "zh-CN"]) },
            notifyOwner: m["notify_owner"].flatMap { reader.bool($0.value, "\(p).notify_owner") },
            definedAt: reader.location(node))
    }

    /// One admin login reaches many mailboxes: SASL PLAIN, authzid = the mailbox owner,
    /// authcid = the master user (Dovecot master users, Cyrus admins); `cyrus_admin` also
    /// reads every quota in bulk (see `MasterMode`).
    func buildMaster(_ node: Node, defaults: Defaults, servers: [String: ServerConfig]) -> [AccountConfig] {
        let m = reader.mapping(node, "master", allowed: Self.masterKeys)
        guard let userNode = m["user"], let masterUser = reader.string(userNode.value, "master.user") else {
            reader.error(node, "master.user", "missing (the master/admin login)")
            return []
        }
        let mode = m["mode"].flatMap { reader.oneOf($0.value, "master.mode", ["dovecot_master"] + MasterMode.allCases.map(\.rawValue)) }
            .map { MasterMode(rawValue: $0) ?? .saslAuthzid } ?? .saslAuthzid
        guard let server = serverName(m, "master", defaults: defaults, servers: servers, owner: node),
              let (secret, _) = secret(m, "master", owner: node, allowToken: false) else { return [] }
        var doveadm: DoveadmAPI?
        switch (mode, m["doveadm"]) {
        case (.dovecotDoveadm, let entry?):
            guard let api = buildDoveadm(entry.value) else { return [] }
            doveadm = api
        case (.dovecotDoveadm, nil):
            reader.error(node, "master.doveadm", "missing (mode dovecot_doveadm reads quotas through doveadm's HTTP API: url and api_key_file)")
            return []
        case (_, let entry?):
            reader.error(entry.key, "master.doveadm", "only used with mode: dovecot_doveadm")
        case (_, nil):
            break
        }
        guard let usersNode = m["users_file"], let usersFile = reader.string(usersNode.value, "master.users_file") else {
            reader.error(node, "master.users_file", "missing (one mailbox login per line)")
            return []
        }
        let file = path(usersFile)
        guard let data = FileManager.default.contents(atPath: file) else {
            reader.error(usersNode.value, "master.users_file", "cannot read \(file)")
            return []
        }
        refuseIfWritableByOthers(file, key: "master.users_file", what: "the users file")
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
                authorizationID: fields[0], secret: secret, secretIsToken: false, auth: .plain, thresholds: ThresholdOverrides(),
                ownerEmail: nil, locale: nil, notifyOwner: nil, definedAt: "\(file):\(index + 1)", masterMode: mode,
                doveadm: doveadm))
        }
        return accounts
    }

    /// `master.doveadm`: the API's URL (https, or http with `insecure_plaintext: true`, for
    /// the key then crosses the network readable), its key, and how often it is read.
    func buildDoveadm(_ node: Node) -> DoveadmAPI? {
        let p = "master.doveadm"
        let m = reader.mapping(node, p, allowed: Self.doveadmKeys)
        guard let urlNode = m["url"] else {
            reader.error(node, "\(p).url", "missing (e.g. https://mail.example.com:8080/doveadm/v1)")
            return nil
        }
        guard let url = reader.string(urlNode.value, "\(p).url") else { return nil }
        let plaintext = m["insecure_plaintext"].flatMap { reader.bool($0.value, "\(p).insecure_plaintext") } ?? false
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host, !host.isEmpty,
              scheme == "https" || scheme == "http", parts.user == nil, parts.password == nil else {
            reader.error(urlNode.value, "\(p).url", "expected an https:// URL with a host, such as https://mail.example.com:8080/doveadm/v1")
            return nil
        }
        if scheme == "http", !plaintext {
            reader.error(urlNode.value, "\(p).url", "http:// would send the API key unencrypted; use https:// (or set insecure_plaintext: true)")
            return nil
        }
        guard let (apiKey, _) = secret(m, p, owner: node, allowToken: false, keys: Self.apiKeyKeys) else { return nil }
        return DoveadmAPI(
            url: url, apiKey: apiKey,
            caFile: trustedFile(m["ca_file"], "\(p).ca_file", what: "the CA bundle"),
            intervalSeconds: m["interval"].flatMap { reader.duration($0.value, "\(p).interval", range: 1...7 * 86400) ?? nil },
            timeoutSeconds: m["timeout"].flatMap { reader.duration($0.value, "\(p).timeout", range: 1...3600) ?? nil } ?? 60,
            method: m["method"].flatMap { reader.choice($0.value, "\(p).method", DoveadmAPI.Method.self) } ?? .allUsers,
            allowPlaintext: plaintext)
    }

    func checkUniqueIDs(_ accounts: [AccountConfig], node: Node) {
        var seen: [String: String] = [:]
        for account in accounts {
            // A browser resolves /account/. and /account/.. to another page: no such id.
            if account.id == "." || account.id == ".." {
                reader.error(node, "accounts", "account id '\(account.id)' (\(account.definedAt)) cannot be used: its page /account/\(account.id) would be another path; give it an id")
            }
            if let first = seen[account.id] {
                reader.error(node, "accounts", "account id '\(account.id)' defined twice: \(first) and \(account.definedAt)")
            } else {
                seen[account.id] = account.definedAt
            }
        }
    }
}
