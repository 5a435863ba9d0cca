import Foundation
import Testing

/// What an integration suite needs on this machine besides the built binary. On a machine
/// without it, `swift test` skips the suite and says what is missing and which Debian
/// package brings it; `scripts/test` installs everything and sets
/// `MAILGAUGE_REQUIRE_ALL=1`, under which nothing is skipped (a missing tool fails the
/// suite instead), and it fails the run if any test was skipped all the same.
enum Tool: String, CaseIterable, Sendable {
    case dovecot, cyrus, sqlite3, promtool, prometheus, alertmanager, aiosmtpd, chromium, lintian, dpkg, systemdAnalyze, setpriv, prlimit, python3

    /// The files whose presence means the tool is here (the paths the tests run).
    var files: [String] {
        switch self {
        case .dovecot: ["/usr/sbin/dovecot", "/usr/bin/doveadm", "/usr/lib/dovecot/modules/lib11_imap_quota_plugin.so", "/usr/bin/openssl"]
        case .cyrus: ["/usr/sbin/saslpasswd2", "/usr/lib/\(Self.multiarch)/libxapian.so.30", "/usr/lib/\(Self.multiarch)/libical.so.3"]
        case .sqlite3: ["/usr/bin/sqlite3"]
        case .promtool: ["/usr/bin/promtool"]
        case .prometheus: ["/usr/bin/prometheus"]
        case .alertmanager: ["/usr/bin/prometheus-alertmanager"]
        case .aiosmtpd: ["/usr/lib/python3/dist-packages/aiosmtpd"]
        case .chromium: ["/usr/bin/chromium", "/usr/bin/chromedriver", "/usr/lib/python3/dist-packages/selenium"]
        case .lintian: ["/usr/bin/lintian", "/usr/bin/chrpath", "/usr/bin/setfacl", "/usr/bin/man"]
        case .dpkg: ["/usr/bin/dpkg", "/usr/bin/dpkg-deb"]
        case .systemdAnalyze: ["/usr/bin/systemd-analyze"]
        case .setpriv: ["/usr/bin/setpriv"]
        case .prlimit: ["/usr/bin/prlimit"]
        case .python3: ["/usr/bin/python3"]
        }
    }

    /// The Debian packages `scripts/test` installs for it.
    var packages: String {
        switch self {
        case .dovecot: "dovecot-imapd dovecot-core"
        case .cyrus: "libxapian30 libpcre3 libical3 libsasl2-modules sasl2-bin (Cyrus itself is unpacked by scripts/servers/cyrus)"
        case .sqlite3: "sqlite3"
        case .promtool, .prometheus: "prometheus"
        case .alertmanager: "prometheus-alertmanager"
        case .aiosmtpd: "python3-aiosmtpd"
        case .chromium: "chromium chromium-driver python3-selenium"
        case .lintian: "lintian chrpath acl man-db"
        case .dpkg: "dpkg"
        case .systemdAnalyze: "systemd"
        case .setpriv, .prlimit: "util-linux"
        case .python3: "python3"
        }
    }

    var isPresent: Bool {
        files.allSatisfy { FileManager.default.fileExists(atPath: $0) && (!$0.contains("/bin/") || FileManager.default.isExecutableFile(atPath: $0)) }
    }

    static let multiarch: String = {
        #if arch(arm64)
        "aarch64-linux-gnu"
        #else
        "x86_64-linux-gnu"
        #endif
    }()

    /// Under `scripts/test` (and CI) nothing may be skipped.
    static let requireAll = ProcessInfo.processInfo.environment["MAILGAUGE_REQUIRE_ALL"] == "1"
}

extension Trait where Self == ConditionTrait {
    /// Enabled when every tool is here (or `MAILGAUGE_REQUIRE_ALL=1`); otherwise skipped
    /// with the tools and packages named.
    static func requires(_ tools: Tool...) -> ConditionTrait {
        let missing = tools.filter { !$0.isPresent }
        let reason = "needs " + missing.map { "\($0.rawValue) (apt-get install \($0.packages))" }.joined(separator: ", ")
            + "; scripts/test installs everything"
        return .enabled(if: missing.isEmpty || Tool.requireAll, Comment(rawValue: reason))
    }
}
