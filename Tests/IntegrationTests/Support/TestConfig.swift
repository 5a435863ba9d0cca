import Foundation

/// What every test config against the project's Dovecot shares, written once: the
/// database in the test's directory and the Dovecot as server `dovecot` (implicit TLS,
/// trusting the test CA).
enum TestConfig {
    /// `database:` and `servers:` with the Dovecot; a test adds its own sections after it.
    static func header(_ dovecot: TestDovecot, dir: URL) -> String {
        """
        database: \(dir.path)/mailgauge.sqlite
        servers:
          \(server(dovecot))
        """
    }

    /// The Dovecot's line under `servers:`, with extra settings (e.g. "timeout: 10s").
    static func server(_ dovecot: TestDovecot, options: String = "") -> String {
        "dovecot: { host: localhost, port: \(dovecot.imapsPort), tls: implicit, ca_file: \(dovecot.caFile)"
            + (options.isEmpty ? "" : ", \(options)") + " }"
    }
}
