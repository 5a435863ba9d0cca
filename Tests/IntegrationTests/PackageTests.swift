import Foundation
import Testing

/// The Debian package, for real: built with dpkg-deb, checked by lintian, installed with
/// dpkg on this machine, run as its user with its unit's umask and directories (the
/// textfile then read as node_exporter's `prometheus` user), upgraded, and purged.
@Suite("Debian package", .serialized, .requires(.dovecot, .dpkg, .lintian, .systemdAnalyze, .setpriv))
struct PackageTests {
    static let script = Paths.repository.appendingPathComponent("scripts/release/package").path

    static func sh(_ command: String, _ arguments: [String] = [], environment: [String: String]? = nil) async throws -> Subprocess.Output {
        try await Subprocess.run(command, arguments, environment: environment, timeoutSeconds: 600)
    }

    static func build(version: String, into dir: URL) async throws -> String {
        // gzip -1: the debug binary is large and xz would take most of the test's time.
        let out = try await sh(script, ["--binary", Paths.mailgauge, "--version", version, "--output", dir.path, "--compression", "gzip"])
        guard out.status == 0 else { throw TestFailure("scripts/release/package: \(out.stderr)") }
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("builds, is lintian-clean, installs, runs as mailgauge for prometheus to read, upgrades, purges")
    func lifecycle() async throws {
        let dovecot = try await TestDovecot.shared()
        let dir = try TestFiles.directory("mg-package")
        let v1 = try await Self.build(version: "0.1.0~test1", into: dir)
        let v2 = try await Self.build(version: "0.1.0~test2", into: dir)

        // lintian: no error. This test packages the debug binary, whose RUNPATH must point
        // at the toolchain's Swift runtime for it to run here; the release package (static
        // runtime, what scripts/release/package builds by default) has no RUNPATH at all.
        let lintian = try await Self.sh("/usr/bin/lintian", ["--tag-display-limit", "0", "--suppress-tags", "custom-library-search-path", v1])
        let errors = lintian.stdout.split(separator: "\n").filter { $0.hasPrefix("E:") }
        #expect(errors.isEmpty, "\(lintian.stdout)")
        let contents = try await Self.sh("/usr/bin/dpkg-deb", ["--contents", v1])
        for path in ["./usr/bin/mailgauge", "./usr/lib/systemd/system/mailgauge.service", "./usr/lib/systemd/system/mailgauge.timer",
                     "./usr/lib/systemd/system/mailgauge-serve.service", "./usr/lib/sysusers.d/mailgauge.conf",
                     "./usr/lib/tmpfiles.d/mailgauge.conf", "./etc/mailgauge/mailgauge.yml", "./usr/share/man/man1/mailgauge-check.1.gz",
                     "./usr/share/bash-completion/completions/mailgauge", "./usr/share/zsh/vendor-completions/_mailgauge",
                     "./usr/share/fish/vendor_completions.d/mailgauge.fish", "./usr/share/mailgauge/prometheus/mailgauge.rules.yml",
                     "./usr/share/mailgauge/dashboards/mailgauge.json", "./usr/share/doc/mailgauge/copyright"] {
            #expect(contents.stdout.contains(" \(path)\n"), "\(path) in the package")
        }

        // node_exporter's textfile directory as Debian's prometheus-node-exporter ships it.
        let textDir = "/var/lib/prometheus/node-exporter"
        let createdTextDir = !FileManager.default.fileExists(atPath: textDir)
        if createdTextDir { try FileManager.default.createDirectory(atPath: textDir, withIntermediateDirectories: true) }
        defer { if createdTextDir { try? FileManager.default.removeItem(atPath: textDir) } }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: textDir)
        _ = try? await Self.sh("/usr/bin/dpkg", ["--purge", "mailgauge"])

        let install = try await Self.sh("/usr/bin/dpkg", ["-i", v1])
        try #require(install.status == 0, "\(install.stdout)\(install.stderr)")
        let user = try await Self.sh("/usr/bin/getent", ["passwd", "mailgauge"])
        #expect(user.stdout.hasPrefix("mailgauge:") && user.stdout.contains(":/var/lib/mailgauge:/usr/sbin/nologin"), "\(user.stdout)")
        let state = try FileManager.default.attributesOfItem(atPath: "/var/lib/mailgauge")
        #expect(state[.ownerAccountName] as? String == "mailgauge" && (state[.posixPermissions] as? Int) == 0o750)
        let conf = try FileManager.default.attributesOfItem(atPath: "/etc/mailgauge/mailgauge.yml")
        #expect(conf[.groupOwnerAccountName] as? String == "mailgauge" && (conf[.posixPermissions] as? Int) == 0o640)
        let acl = try await Self.sh("/usr/bin/getfacl", ["-p", textDir])
        #expect(acl.stdout.contains("user:mailgauge:rwx") && acl.stdout.contains("# flags: --t"), "sticky, so only its own files: \(acl.stdout)")
        let verify = try await Self.sh("/usr/bin/systemd-analyze", ["verify", "/usr/lib/systemd/system/mailgauge.service",
                                                                     "/usr/lib/systemd/system/mailgauge.timer",
                                                                     "/usr/lib/systemd/system/mailgauge-serve.service"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        // (Unless this machine's dpkg is told to skip man pages, as slim Docker images are.)
        let excludes = (try? FileManager.default.contentsOfDirectory(atPath: "/etc/dpkg/dpkg.cfg.d"))?.compactMap {
            try? String(contentsOfFile: "/etc/dpkg/dpkg.cfg.d/\($0)", encoding: .utf8)
        }.joined() ?? ""
        if !excludes.contains("path-exclude=/usr/share/man") {
            let man = try await Self.sh("/usr/bin/man", ["-w", "mailgauge-check"])
            #expect(man.stdout.contains("/usr/share/man/man1/mailgauge-check.1.gz"), "\(man.stdout)\(man.stderr)")
        }

        // A run as the unit runs it: user mailgauge, UMask=0027, the state directory, the
        // textfile in node_exporter's directory; then node_exporter's user reads it.
        let secret = "/var/lib/mailgauge/alice.pass"
        try FileManager.default.copyItem(atPath: dovecot.secretFile("alice"), toPath: secret)
        _ = try await Self.sh("/usr/bin/chown", ["mailgauge:mailgauge", secret])
        let config = dir.appendingPathComponent("mailgauge.yml").path
        try """
            database: /var/lib/mailgauge/mailgauge.sqlite
            servers: { test: { host: localhost, port: \(dovecot.imapsPort), tls: implicit, ca_file: \(dovecot.caFile) } }
            accounts: [ { id: alice, user: alice, password_file: \(secret) } ]
            metrics: { textfile: \(textDir)/mailgauge.prom }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: config)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        let run = try await Self.sh("/bin/sh", ["-c", "umask 0027 && exec setpriv --reuid=mailgauge --regid=mailgauge --init-groups /usr/bin/mailgauge run -c \(config)"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let read = try await Self.sh("/usr/bin/setpriv", ["--reuid=prometheus", "--regid=prometheus", "--init-groups", "/bin/cat", "\(textDir)/mailgauge.prom"])
        #expect(read.status == 0 && read.stdout.contains("mailgauge_up{account=\"alice\"} 1"), "\(read.stderr)")
        // Another collector's file in the same directory: mailgauge can neither remove nor replace it.
        try "other 1\n".write(toFile: "\(textDir)/other.prom", atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: "\(textDir)/other.prom") }
        let replace = try await Self.sh("/usr/bin/setpriv", ["--reuid=mailgauge", "--regid=mailgauge", "--init-groups", "/bin/sh", "-c",
                                                             "echo x > \(textDir)/x.tmp && mv -f \(textDir)/x.tmp \(textDir)/other.prom"])
        let remove = try await Self.sh("/usr/bin/setpriv", ["--reuid=mailgauge", "--regid=mailgauge", "--init-groups", "/bin/rm", "-f", "\(textDir)/other.prom"])
        #expect(replace.status != 0 && remove.status != 0 && (try? String(contentsOfFile: "\(textDir)/other.prom", encoding: .utf8)) == "other 1\n")
        try? FileManager.default.removeItem(atPath: "\(textDir)/x.tmp")
        let db = try FileManager.default.attributesOfItem(atPath: "/var/lib/mailgauge/mailgauge.sqlite")
        #expect(db[.ownerAccountName] as? String == "mailgauge" && (db[.posixPermissions] as? Int) == 0o640)

        // Upgrade: an admin's edit of the conffile survives; the history too.
        try "# edited by the admin\n".appending(try String(contentsOfFile: "/etc/mailgauge/mailgauge.yml", encoding: .utf8))
            .write(toFile: "/etc/mailgauge/mailgauge.yml", atomically: false, encoding: .utf8)
        let upgrade = try await Self.sh("/usr/bin/dpkg", ["-i", "--force-confold", v2])
        #expect(upgrade.status == 0, "\(upgrade.stdout)\(upgrade.stderr)")
        let status = try await Self.sh("/usr/bin/dpkg-query", ["-W", "-f", "${Version} ${Status}", "mailgauge"])
        #expect(status.stdout == "0.1.0~test2 install ok installed", "\(status.stdout)")
        #expect(try String(contentsOfFile: "/etc/mailgauge/mailgauge.yml", encoding: .utf8).hasPrefix("# edited by the admin\n"))
        #expect(FileManager.default.fileExists(atPath: "/var/lib/mailgauge/mailgauge.sqlite"))

        // Purge: binary, units, config, history and the textfile-directory grant are gone.
        let purge = try await Self.sh("/usr/bin/dpkg", ["--purge", "mailgauge"])
        #expect(purge.status == 0, "\(purge.stdout)\(purge.stderr)")
        for path in ["/usr/bin/mailgauge", "/usr/lib/systemd/system/mailgauge.service", "/etc/mailgauge", "/var/lib/mailgauge"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) left after purge")
        }
        let aclAfter = try await Self.sh("/usr/bin/getfacl", ["-p", textDir])
        #expect(!aclAfter.stdout.contains("user:mailgauge"), "\(aclAfter.stdout)")
        #expect(!FileManager.default.fileExists(atPath: "\(textDir)/mailgauge.prom"), "no stale metrics after purge")
    }

    @Test("on a machine without chrpath, scripts/release/package stops at once naming the package to install, before any build")
    func missingTool() async throws {
        // A PATH with every tool the script needs but chrpath.
        let bin = try TestFiles.directory("mg-package-path")
        for tool in ["bash", "env", "dirname", "readelf", "strip", "dpkg-deb", "dpkg", "gzip", "install", "sed", "sort", "tr", "xz", "swift"] {
            let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]
            guard let found = path.map({ "\($0)/\(tool)" }).first(where: FileManager.default.isExecutableFile) else { continue }
            try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(tool).path, withDestinationPath: found)
        }
        let started = Date()
        let out = try await Self.sh(bin.appendingPathComponent("bash").path, [Self.script], environment: ["PATH": bin.path])
        #expect(out.status == 2, "\(out.stdout)\(out.stderr)")
        #expect(out.stderr.contains("missing tools; install them first: apt-get install chrpath"), "\(out.stderr)")
        #expect(Date().timeIntervalSince(started) < 10, "stopped before building")
    }
}
