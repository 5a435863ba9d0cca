@testable import Config
import Foundation
import Testing

/// A throwaway directory with a config and the files it points at.
struct Fixture {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try write("alice.pass", "s3cret\n", mode: 0o600)
        try write("master.pass", "m4ster\n", mode: 0o600)
    }

    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url.path
    }

    func load(_ yaml: String) throws -> ConfigLoader.Loaded {
        let path = try write("mailgauge.yml", yaml)
        return try ConfigLoader.load(path: path, environment: ["BOB_PASS": "x"])
    }

    /// The errors of an invalid config, as text.
    func errors(_ yaml: String) throws -> [String] {
        do {
            _ = try load(yaml)
            return []
        } catch let e as ConfigErrors {
            return e.errors.map(\.description)
        }
    }
}

@Suite("config loading")
struct ConfigTests {
    static let valid = """
        database: state/mailgauge.sqlite
        concurrency: 4
        lock_wait: 30s
        servers:
          corp: { host: imap.example.com, port: 993, tls: implicit, timeout: 20s, max_connections: 3 }
          legacy: { host: old.example.com, tls: starttls, method: fetch }
        defaults: { server: corp, warning: 75%, critical: 90%, forecast_horizon: 10d, min_free: 500M }
        accounts:
          - { id: alice, user: alice@example.com, password_file: alice.pass }
          - { id: bob, user: bob@example.com, password_env: BOB_PASS, critical: 85%, server: legacy }
          - { user: carol@example.com, password_command: "pass show mail/carol", locale: zh-CN }
          - { id: dan, user: dan@example.com, token_file: alice.pass }
        accounts_file: more.csv
        master: { user: admin, password_file: master.pass, mode: dovecot_master, users_file: users.txt }
        folders: { export: all }
        metrics: { textfile: /var/lib/node/mailgauge.prom, listen: "127.0.0.1:9999" }
        alerts:
          repeat_interval: 12h
          email: { smtp: { host: smtp.example.com, port: 587, tls: starttls, user: mg, password_file: master.pass },
                   from: mailgauge@example.com, to: [postmaster@example.com], notify_owner: true }
          webhook: { url: "http://127.0.0.1:9093/api/v2/alerts", format: alertmanager, insecure_plaintext: true }
        retention: { raw: 35d, hourly: 400d, daily: forever }
        schedule: { interval: 5m }
        """

    @Test("master modes: sasl_authzid, its old name dovecot_master, cyrus_admin; schedule policy")
    func masterModesAndSchedule() throws {
        let f = try Fixture()
        try f.write("users.txt", "gina\n")
        func config(_ mode: String, schedule: String = "") throws -> MailGaugeConfig {
            try f.load("""
                database: db.sqlite
                servers: { corp: { host: imap.example.com } }
                master: { user: admin, password_file: master.pass, mode: \(mode), users_file: users.txt, server: corp }
                \(schedule)
                """).config
        }
        #expect(try config("sasl_authzid").accounts.first?.masterMode == .saslAuthzid)
        #expect(try config("dovecot_master").accounts.first?.masterMode == .saslAuthzid)
        let cyrus = try config("cyrus_admin").accounts.first
        #expect(cyrus?.masterMode == .cyrusAdmin && cyrus?.loginUser == "admin" && cyrus?.authorizationID == "gina")
        #expect(throws: ConfigErrors.self) { try config("cyrus") }
        let adaptive = try config("cyrus_admin").schedule
        #expect(adaptive.policy == .adaptive && adaptive.maxIntervalSeconds == 86400 && adaptive.reserve == 0.05)
        let fixed = try config("cyrus_admin", schedule: "schedule: { interval: 10m, policy: fixed, max_interval: 6h, reserve: 10% }").schedule
        #expect(fixed.policy == .fixed && fixed.maxIntervalSeconds == 21600 && fixed.reserve == 0.10 && fixed.intervalSeconds == 600)
        #expect(throws: ConfigErrors.self) { try config("cyrus_admin", schedule: "schedule: { interval: 1h, max_interval: 30m }") }
        #expect(throws: ConfigErrors.self) { try config("cyrus_admin", schedule: "schedule: { policy: sometimes }") }
    }

    @Test("dovecot_doveadm: the API's URL, key and interval; plaintext only by opt-in; errors name the key")
    func doveadm() throws {
        let f = try Fixture()
        try f.write("users.txt", "gina\n")
        try f.write("api.key", "k3y\n", mode: 0o600)
        func yaml(_ doveadm: String, mode: String = "dovecot_doveadm") -> String {
            """
            database: db.sqlite
            servers: { corp: { host: imap.example.com, ca_file: /etc/corp-ca.pem } }
            master:
              user: admin
              password_file: master.pass
              mode: \(mode)
              users_file: users.txt
            \(doveadm.isEmpty ? "" : "  doveadm: \(doveadm)")
            """
        }
        let account = try #require(try f.load(yaml("{ url: https://mail.example.com:8080/doveadm/v1, api_key_file: api.key }")).config.accounts.first)
        #expect(account.masterMode == .dovecotDoveadm && account.loginUser == "admin" && account.authorizationID == "gina")
        let api = try #require(account.doveadm)
        #expect(api.url == "https://mail.example.com:8080/doveadm/v1" && api.apiKey == .file(f.dir.appendingPathComponent("api.key").path))
        #expect(api.caFile == nil && api.intervalSeconds == nil && api.timeoutSeconds == 60 && api.method == .allUsers)
        let tuned = try f.load(yaml("{ url: 'https://m/doveadm/v1', api_key_env: DOVEADM_KEY, ca_file: ca.pem, interval: 1h, timeout: 2m, method: per_user }"))
            .config.accounts.first?.doveadm
        #expect(tuned?.apiKey == .env("DOVEADM_KEY") && tuned?.intervalSeconds == 3600 && tuned?.timeoutSeconds == 120 && tuned?.method == .perUser)
        #expect(tuned?.caFile == f.dir.appendingPathComponent("ca.pem").path)
        let plain = try f.load(yaml("{ url: 'http://127.0.0.1:8080/doveadm/v1', api_key_credential: doveadm, insecure_plaintext: true }"))
        #expect(plain.config.accounts.first?.doveadm?.apiKey == .credential("doveadm"))
        #expect(plain.config.accounts.first?.doveadm?.allowPlaintext == true && api.allowPlaintext == false)

        let cases: [(String, String, String)] = [
            (yaml(""), "master.doveadm", "missing"),
            (yaml("{ api_key_file: api.key }"), "master.doveadm.url", "missing"),
            (yaml("{ url: 'http://m:8080/doveadm/v1', api_key_file: api.key }"), "master.doveadm.url", "unencrypted"),
            (yaml("{ url: 'ftp://m/', api_key_file: api.key }"), "master.doveadm.url", "https://"),
            (yaml("{ url: 'https://user:pw@m/', api_key_file: api.key }"), "master.doveadm.url", "https://"),
            (yaml("{ url: 'https://m/' }"), "master.doveadm", "no secret: give one of api_key_file"),
            (yaml("{ url: 'https://m/', api_key_file: api.key, api_key_env: K }"), "master.doveadm.api_key_env", "only one secret"),
            (yaml("{ url: 'https://m/', password_file: api.key }"), "master.doveadm.password_file", "unknown key"),
            (yaml("{ url: 'https://m/', api_key_file: missing.key }"), "master.doveadm.api_key_file", "does not exist"),
            (yaml("{ url: 'https://m/', api_key_file: api.key, interval: 0s }"), "master.doveadm.interval", "must be from"),
            (yaml("{ url: 'https://m/', api_key_file: api.key, method: some_users }"), "master.doveadm.method", "all_users"),
            (yaml("{ url: 'https://m/', api_key_file: api.key }", mode: "cyrus_admin"), "master.doveadm", "only used with mode: dovecot_doveadm"),
        ]
        for (text, key, message) in cases {
            let errors = try f.errors(text)
            #expect(errors.contains { $0.contains("mailgauge.yml:") && $0.contains(key + ":") && $0.contains(message) }, "\(key) \(message): \(errors)")
        }
    }

    @Test("a full config gives typed values")
    func valid() throws {
        let f = try Fixture()
        try f.write("more.csv", "id,user,password_file,warning\nerin,erin@example.com,alice.pass,60%\n\"fr,ank\",frank@example.com,alice.pass,\n")
        try f.write("users.txt", "# users reached through the master login\ngina@example.com\nhank@example.com  hank\n\n")
        let config = try f.load(Self.valid).config
        #expect(config.database == f.dir.appendingPathComponent("state/mailgauge.sqlite").path)
        #expect(config.concurrency == 4 && config.lockWaitSeconds == 30)
        #expect(config.servers["corp"] == ServerConfig(name: "corp", host: "imap.example.com", port: 993, tls: .implicit, caFile: nil,
                                                       timeoutSeconds: 20, maxConnections: 3, maxFolders: 10_000, maxResponsesPerCommand: 2_000_000, auth: .auto, method: .auto,
                                                       thresholds: ThresholdOverrides()))
        #expect(config.servers["legacy"]?.port == 143 && config.servers["legacy"]?.method == .fetch)
        #expect(config.defaults.warning == 0.75 && config.defaults.critical == 0.90)
        #expect(config.defaults.forecastHorizonSeconds == 864_000 && config.defaults.minFreeBytes == 500 * 1024 * 1024)
        let ids = config.accounts.map(\.id)
        #expect(ids == ["alice", "bob", "carol@example.com", "dan", "erin", "fr,ank", "gina@example.com", "hank"])
        let byID = Dictionary(uniqueKeysWithValues: config.accounts.map { ($0.id, $0) })
        #expect(byID["alice"]?.secret == .file(f.dir.appendingPathComponent("alice.pass").path))
        #expect(byID["bob"]?.secret == .env("BOB_PASS") && byID["bob"]?.server == "legacy" && byID["bob"]?.thresholds.critical == 0.85)
        #expect(byID["carol@example.com"]?.secret == .command("pass show mail/carol") && byID["carol@example.com"]?.locale == "zh-CN")
        #expect(byID["dan"]?.secretIsToken == true && byID["dan"]?.auth == .xoauth2)
        #expect(byID["erin"]?.thresholds.warning == 0.60)
        #expect(byID["hank"]?.loginUser == "admin" && byID["hank"]?.authorizationID == "hank@example.com" && byID["hank"]?.auth == .plain)
        #expect(byID["hank"]?.definedAt.hasSuffix("users.txt:3") == true)
        #expect(config.folders.export == .all)
        #expect(config.alerts.repeatIntervalSeconds == 43200 && config.alerts.email?.to == ["postmaster@example.com"])
        #expect(config.alerts.webhooks.first?.format == .alertmanager)
        #expect(config.retention == Retention(rawSeconds: 35 * 86400, hourlySeconds: 400 * 86400, dailySeconds: nil))
        #expect(config.schedule.intervalSeconds == 300)
    }

    @Test("unknown key: file, line, column, key path, and the nearest valid key")
    func unknownKey() throws {
        let f = try Fixture()
        let errors = try f.errors("""
            servers:
              corp: { host: imap.example.com }
            accounts:
              - id: alice
                user: alice
                pasword_file: alice.pass
            """)
        #expect(errors.contains { $0.hasSuffix("mailgauge.yml:6:5: accounts[0].pasword_file: unknown key (did you mean 'password_file'?); valid keys here: id, user, server, auth, warning, critical, forecast_horizon, min_free, owner_email, locale, notify_owner, password_file, password_env, password_command, password_credential, token_file") }, "\(errors)")
        #expect(errors.allSatisfy { $0.hasPrefix(f.dir.path) })
        let top = try f.errors("databse: x.sqlite\nservers: { corp: { host: h } }\naccounts: [{ user: a, password_file: alice.pass }]\n")
        #expect(top.count == 1 && top[0].contains("mailgauge.yml:1:1: databse: unknown key (did you mean 'database'?)"), "\(top)")
    }

    @Test("wrong types and bad values name the key and what was expected")
    func wrongTypes() throws {
        let f = try Fixture()
        let errors = try f.errors("""
            concurrency: many
            servers:
              corp: { host: h, port: 99999, tls: ssl, timeout: 10 minutes }
            defaults: { warning: 180% }
            accounts: { user: a }
            """)
        #expect(errors.contains { $0.contains(":1:14: concurrency: expected a whole number, found 'many'") }, "\(errors)")
        #expect(errors.contains { $0.contains(":3:26: servers.corp.port: must be from 1 to 65535, found 99999") }, "\(errors)")
        #expect(errors.contains { $0.contains("servers.corp.tls: must be one of implicit, starttls, none, found 'ssl'") }, "\(errors)")
        #expect(errors.contains { $0.contains(":3:52: servers.corp.timeout: expected a duration such as 30s, 15m, 7d or 1h30m, found '10 minutes'") }, "\(errors)")
        #expect(errors.contains { $0.contains(":4:22: defaults.warning: expected a percentage from 0% to 100%, found '180%'") }, "\(errors)")
        #expect(errors.contains { $0.contains(":5:11: accounts: expected a list, found a mapping") }, "\(errors)")
    }

    @Test("files that carry commands are refused when others may write them; CRLF users files read")
    func writableByOthers() throws {
        let f = try Fixture()
        let yaml = "servers: { corp: { host: h } }\nmaster: { user: admin, password_file: master.pass, users_file: users.txt }\n"
        try f.write("users.txt", "gina\r\nhank  h2\r\n")
        let loaded = try f.load(yaml)
        #expect(loaded.config.accounts.map(\.id) == ["gina", "h2"])
        let path = try f.write("mailgauge.yml", yaml, mode: 0o664)
        #expect {
            _ = try ConfigLoader.load(path: path)
        } throws: { error in
            "\(error)".contains("the config is writable by its group (mode 664): refused; make it and the directories above it owned by root")
        }
        try f.write("more.csv", "id,user,password_file\nx,x,alice.pass\n", mode: 0o646)
        let csv = try f.errors("servers: { corp: { host: h } }\naccounts_file: more.csv\n")
        #expect(csv.contains { $0.contains("the accounts file is writable by every user") }, "\(csv)")
    }

    @Test("a CA bundle, the users file and the sendmail program others could change are refused: by mode, owner or directory")
    func trustedFiles() throws {
        let f = try Fixture()
        try f.write("ca.pem", "x", mode: 0o664)
        try f.write("users.txt", "gina\n", mode: 0o620)
        try f.write("sendmail", "#!/bin/sh\n", mode: 0o757)
        let errors = try f.errors("""
            servers: { corp: { host: h, ca_file: ca.pem } }
            master: { user: admin, password_file: master.pass, users_file: users.txt }
            alerts: { email: { sendmail: sendmail, from: a@b.c, to: [c@d.e] } }
            """)
        #expect(errors.contains { $0.contains(":1:38: servers.corp.ca_file: the CA bundle \(f.dir.path)/ca.pem is writable by its group (mode 664): refused") }, "\(errors)")
        #expect(errors.contains { $0.contains("users.txt:1:1: master.users_file: the users file is writable by its group (mode 620)") }, "\(errors)")
        #expect(errors.contains { $0.contains("alerts.email.sendmail: the sendmail program \(f.dir.path)/sendmail is writable by every user (mode 757)") }, "\(errors)")

        // Another user's file, or a directory others may write (not sticky): refused too.
        let other = try Fixture()
        let ca = try other.write("ca.pem", "x", mode: 0o644)
        #expect(chown(ca, 65534, 65534) == 0)
        let owned = try other.errors("servers: { corp: { host: h, ca_file: ca.pem } }\naccounts: [{ user: a, server: corp, password_file: a.pass }]\n")
        #expect(owned.contains { $0.contains("is owned by uid 65534, not root or this user") }, "\(owned)")
        let sub = other.dir.appendingPathComponent("open")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        chmod(sub.path, 0o777)
        try "x".write(toFile: sub.path + "/ca.pem", atomically: false, encoding: .utf8)
        let dir = try other.errors("servers: { corp: { host: h, ca_file: open/ca.pem } }\naccounts: [{ user: a, server: corp, password_file: a.pass }]\n")
        #expect(dir.contains { $0.contains("is in directory \(sub.path), writable by every user (mode 777), who could replace it") }, "\(dir)")
        chmod(sub.path, 0o1777)  // sticky, as /tmp: others may not replace what is ours
        let sticky = try other.errors("servers: { corp: { host: h, ca_file: open/ca.pem } }\naccounts: [{ user: a, server: corp, password_file: a.pass }]\n")
        #expect(!sticky.contains { $0.contains("ca_file") }, "\(sticky)")
    }

    @Test("account ids . and .. are refused (their pages would be other paths)")
    func dotIDs() throws {
        let f = try Fixture()
        let errors = try f.errors("servers: { corp: { host: h } }\naccounts: [{ id: \"..\", user: a, server: corp, password_file: a.pass }]\n")
        #expect(errors.contains { $0.contains("account id '..'") && $0.contains("cannot be used") }, "\(errors)")
    }

    @Test("webhooks: http:// needs insecure_plaintext; email addresses with a line break are refused")
    func webhookSchemeAndAddresses() throws {
        let f = try Fixture()
        let errors = try f.errors("""
            servers: { corp: { host: h } }
            accounts: [{ user: a, server: corp, password_file: a.pass }]
            alerts:
              webhook: { url: "http://hooks.example/x" }
              email: { sendmail: /usr/sbin/sendmail, from: "a@b.c\\r\\nRCPT TO:<x@y.z>", to: ["ok@d.e", "bad d.e"] }
            """)
        #expect(errors.contains { $0.contains(":4:19: alerts.webhook.url: http:// would send the notices (and any token in the URL) unencrypted") }, "\(errors)")
        #expect(errors.contains { $0.contains("alerts.email.from:") && $0.contains("holds a control character") }, "\(errors)")
        #expect(errors.contains { $0.contains("alerts.email.to: 'bad d.e' is not an address") }, "\(errors)")
    }

    @Test("durations out of range are errors naming the range; server limits are checked")
    func durationRanges() throws {
        let f = try Fixture()
        let errors = try f.errors("""
            account_timeout: 100000d
            servers:
              corp: { host: h, timeout: 0s, max_folders: 0 }
            schedule: { interval: inf }
            accounts: [{ user: a, password_file: alice.pass }]
            """)
        #expect(errors.contains { $0.contains(":1:18: account_timeout: must be from 1s to 1d, found '100000d'") }, "\(errors)")
        #expect(errors.contains { $0.contains("servers.corp.timeout: must be from 1s to 1h, found '0s'") }, "\(errors)")
        #expect(errors.contains { $0.contains("servers.corp.max_folders: must be from 1 to 1000000, found 0") }, "\(errors)")
        #expect(errors.contains { $0.contains("schedule.interval: must be from 1s to 7d, found 'inf'") }, "\(errors)")
    }

    @Test("bad duration in retention, secrets that are missing, doubled or absent")
    func secretsAndDurations() throws {
        let f = try Fixture()
        let errors = try f.errors("""
            servers: { corp: { host: h } }
            accounts:
              - { id: a, user: a, password_file: missing.pass }
              - { id: b, user: b }
              - { id: c, user: c, password_file: alice.pass, password_env: X }
              - { id: a, user: a2, password_file: alice.pass }
            retention: { raw: 3 weeks }
            """)
        #expect(errors.contains { $0.contains(":3:38: accounts[0].password_file: secret file \(f.dir.path)/missing.pass does not exist") }, "\(errors)")
        #expect(errors.contains { $0.contains(":4:5: accounts[1]: no secret: give one of password_file") }, "\(errors)")
        #expect(errors.contains { $0.contains(":5:50: accounts[2].password_env: only one secret source allowed") }, "\(errors)")
        #expect(errors.contains { $0.contains("account id 'a' defined twice") }, "\(errors)")
        #expect(errors.contains { $0.contains(":7:19: retention.raw: expected a duration") && $0.contains("(or forever), found '3 weeks'") }, "\(errors)")
    }

    @Test("YAML syntax errors and unknown servers are located")
    func syntaxAndReferences() throws {
        let f = try Fixture()
        let syntax = try f.errors("servers:\n  corp: { host: h\naccounts: []\n")
        #expect(syntax.count == 1 && syntax[0].contains("mailgauge.yml:3:") && syntax[0].contains("YAML syntax"), "\(syntax)")
        let reference = try f.errors("servers: { corp: { host: h } }\naccounts: [{ user: a, password_file: alice.pass, server: crop }]\n")
        #expect(reference.contains { $0.contains("accounts[0].server: no server named 'crop' under servers (did you mean 'corp'?)") }, "\(reference)")
    }

    @Test("CSV accounts: unknown columns and bad cells point at the CSV row and column")
    func csvErrors() throws {
        let f = try Fixture()
        try f.write("more.csv", "id,user,pasword_file\nx,y,alice.pass\n")
        let unknown = try f.errors("servers: { corp: { host: h } }\naccounts_file: more.csv\n")
        #expect(unknown.contains { $0.contains("more.csv:1:9: accounts_file: unknown column 'pasword_file' (did you mean 'password_file'?)") }, "\(unknown)")
        try f.write("more.csv", "id,user,password_file,warning\nx,y,alice.pass,lots\n")
        let bad = try f.errors("servers: { corp: { host: h } }\naccounts_file: more.csv\n")
        #expect(bad.contains { $0.contains("more.csv:2:16: row 2.warning: expected a percentage") }, "\(bad)")
        try f.write("users.txt", "ok\ntoo many fields\n")
        let users = try f.errors("servers: { corp: { host: h } }\nmaster: { user: admin, password_file: master.pass, users_file: users.txt }\n")
        #expect(users.contains { $0.contains("users.txt:2:1: master.users_file: expected 'login' or 'login id'") }, "\(users)")
    }

    @Test("a secret file readable by everyone is a warning, not an error")
    func permissions() throws {
        let f = try Fixture()
        try f.write("open.pass", "x\n", mode: 0o644)
        let loaded = try f.load("servers: { corp: { host: h } }\naccounts: [{ user: a, password_file: open.pass }]\n")
        #expect(loaded.warnings.count == 1)
        #expect(loaded.warnings[0].description.contains("mailgauge.yml:2 accounts[0].password_file: warning: secret file"))
        #expect(loaded.warnings[0].description.contains("readable by every user"))
        let quiet = try f.load("servers: { corp: { host: h } }\naccounts: [{ user: a, password_file: alice.pass }]\n")
        #expect(quiet.warnings.isEmpty)
    }

    @Test("durations, sizes and percentages")
    func units() {
        #expect(Units.duration("30s") == 30 && Units.duration("15m") == 900 && Units.duration("7d") == 604_800)
        #expect(Units.duration("1h30m") == 5400 && Units.duration("500ms") == 0.5 && Units.duration("45") == 45 && Units.duration("2w") == 1_209_600)
        #expect(Units.duration("") == nil && Units.duration("10 minutes") == nil && Units.duration("5x") == nil && Units.duration("m") == nil)
        #expect(Units.size("500M") == 524_288_000 && Units.size("2G") == 2_147_483_648 && Units.size("1.5T") == 1_649_267_441_664)
        #expect(Units.size("10KiB") == 10240 && Units.size("100") == 100 && Units.size("lots") == nil && Units.size("-1M") == nil)
        #expect(Units.percent("80%") == 0.8 && Units.percent("95") == 0.95 && Units.percent("101%") == nil && Units.percent("x") == nil)
        #expect(Suggestion.nearest(to: "pasword_file", in: ["password_file", "user"]) == "password_file")
        #expect(Suggestion.nearest(to: "zzz", in: ["password_file", "user"]) == nil)
    }

    @Test("owner addresses: the account's own, then owners_file, then the server's template, then the default's")
    func ownerAddresses() throws {
        let f = try Fixture()
        try f.write("users.txt", "jdoe\nmsmith\nrlee@corp.example\n")
        try f.write("owners.csv", "user,owner_email\nmsmith,mary.smith@example.com\n", mode: 0o640)
        let loaded = try f.load("""
            servers:
              corp: { host: h }
              branch: { host: b, owner_email: "{local}@branch.example" }
            defaults: { server: corp, owner_email: "{user}@corp.example" }
            owners_file: owners.csv
            master: { user: admin, password_file: master.pass, users_file: users.txt }
            accounts:
              - { id: own, user: own, password_file: alice.pass, owner_email: own.person@example.org }
              - { id: far, user: far@remote.example, server: branch, password_file: alice.pass }
              - { id: dom, user: nodomain, password_file: alice.pass, owner_email: "{local}@{domain}" }
            """)
        let owners = Dictionary(uniqueKeysWithValues: loaded.config.accounts.map { ($0.id, $0.ownerEmail) })
        #expect(owners["own"] == "own.person@example.org", "the account's own")
        #expect(owners["msmith"] == "mary.smith@example.com", "owners_file")
        #expect(owners["far"] == "far@branch.example", "the server's template: {local}")
        #expect(owners["jdoe"] == "jdoe@corp.example", "the default template: {user}")
        #expect(owners["rlee@corp.example"] == "rlee@corp.example@corp.example", "{user} is the whole login")
        #expect(owners["dom"] == "", "{domain} of a login without one: no address, not the default template")
    }

    @Test("owner templates and owners files: a typo or a bad row is an error with its place")
    func ownerErrors() throws {
        let f = try Fixture()
        let placeholder = try f.errors("""
            servers: { corp: { host: h } }
            defaults: { owner_email: "{usr}@corp.example" }
            accounts: [ { user: a, password_file: alice.pass } ]
            """)
        #expect(placeholder.contains { $0.contains("mailgauge.yml:2:26: defaults.owner_email: unknown placeholder {usr} (did you mean {user}?)") },
                "\(placeholder)")
        try f.write("owners.csv", "login,email\n")
        let header = try f.errors("servers: { corp: { host: h } }\nowners_file: owners.csv\naccounts: [ { user: a, password_file: alice.pass } ]\n")
        #expect(header.contains { $0.contains("owners.csv:1:1: owners_file: the header must be: user,owner_email") }, "\(header)")
        try f.write("owners.csv", "user,owner_email\na,a@x.example\nb\na,other@x.example\n")
        let rows = try f.errors("servers: { corp: { host: h } }\nowners_file: owners.csv\naccounts: [ { user: a, password_file: alice.pass } ]\n")
        #expect(rows.contains { $0.contains("owners.csv:3:1: owners_file: expected two fields") }, "\(rows)")
        #expect(rows.contains { $0.contains("owners.csv:4:1: owners_file: 'a' is listed twice (first on line 2)") }, "\(rows)")
        try f.write("owners.csv", "user,owner_email\na,attacker@evil.example\n", mode: 0o666)
        let writable = try f.errors("servers: { corp: { host: h } }\nowners_file: owners.csv\naccounts: [ { user: a, password_file: alice.pass } ]\n")
        #expect(writable.contains { $0.contains("the owners file is writable by every user") }, "\(writable)")
    }

    @Test("shards: K/N parsed and checked; every account in exactly one shard, spread evenly; config's shard and the override")
    func shards() throws {
        #expect(Shard(parsing: "2/4")?.description == "2/4")
        for bad in ["0/4", "5/4", "1/0", "4", "a/b", "1/2/3", "1/1025", ""] { #expect(Shard(parsing: bad) == nil, "\(bad)") }
        let ids = (0..<4000).map { "user\($0)@example.com" }
        let shards = (1...4).map { Shard(parsing: "\($0)/4")! }
        for id in ids.prefix(500) { #expect(shards.filter { $0.contains(id) }.count == 1, "\(id)") }
        for shard in shards {
            let n = ids.filter { shard.contains($0) }.count
            #expect(n > 850 && n < 1150, "shard \(shard): \(n) of 4000")
        }
        let f = try Fixture()
        let yaml = """
            servers: { corp: { host: h } }
            shard: 1/2
            accounts:
            \((0..<20).map { "  - { id: a\($0), user: a\($0), password_file: alice.pass }" }.joined(separator: "\n"))
            """
        let path = try f.write("sharded.yml", yaml)
        let first = try ConfigLoader.load(path: path).config
        let second = try ConfigLoader.load(path: path, shard: Shard(parsing: "2/2")).config
        #expect(first.shard?.description == "1/2" && second.shard?.description == "2/2" && first.listedAccountCount == 20)
        #expect(Set(first.accounts.map(\.id)).isDisjoint(with: second.accounts.map(\.id)))
        #expect(first.accounts.count + second.accounts.count == 20)
        let bad = try f.errors("servers: { corp: { host: h } }\nshard: 3/2\naccounts: [ { user: a, password_file: alice.pass } ]\n")
        #expect(bad.contains { $0.contains("mailgauge.yml:2:8: shard: expected K/N with 1 ≤ K ≤ N ≤ 1024") }, "\(bad)")
    }
}
