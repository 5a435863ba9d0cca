public import Foundation
import GRDB
public import MailGaugeCore

extension AppDatabase {
    /// Stores a pass's server health (one row per endpoint, replaced), carrying each
    /// endpoint's capability change time forward. Returns what was stored.
    @discardableResult
    public func recordServerHealth(_ tally: ServerHealthTally, at now: Date) throws -> [ServerHealth] {
        guard !tally.isEmpty else { return [] }
        return try writer.write { db in
            var previous: [String: [String: (capabilities: [String], changedAt: Date?)]] = [:]
            for h in try Self.serverHealth(db) { previous[h.server, default: [:]][h.endpoint] = (h.capabilities, h.capabilitiesChangedAt) }
            let health = tally.health(at: now, previous: previous)
            let upsert = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO server_health (server, endpoint, checked_at, tls_version, cipher, cert_not_after, chain_not_after,
                    cert_subject, cert_issuer, cert_sans, tls_failures, tls_failure, logins, login_seconds_sum,
                    login_p50, login_p90, login_p99, login_max, capabilities, capabilities_changed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for h in health {
                let c = h.tls?.certificate
                try upsert.execute(arguments: [
                    h.server, h.endpoint, now.timeIntervalSince1970, h.tls?.version, h.tls?.cipher,
                    c?.notAfter.timeIntervalSince1970, c?.chainNotAfter.timeIntervalSince1970, c?.subject, c?.issuer,
                    c?.subjectAlternativeNames.joined(separator: " "), h.tlsFailures, h.tlsFailure, h.logins, h.loginSecondsSum,
                    h.loginQuantiles[0.5], h.loginQuantiles[0.9], h.loginQuantiles[0.99], h.loginQuantiles[1],
                    h.capabilities.joined(separator: " "), h.capabilitiesChangedAt?.timeIntervalSince1970,
                ])
            }
            return health
        }
    }

    /// Every endpoint's latest health, by server then endpoint.
    public func serverHealth() throws -> [ServerHealth] {
        try writer.read { db in try Self.serverHealth(db) }
    }

    static func serverHealth(_ db: Database) throws -> [ServerHealth] {
        try Row.fetchAll(db, sql: "SELECT * FROM server_health ORDER BY server, endpoint").map { row in
            var tls: TLSSession?
            if let version: String = row["tls_version"], let notAfter: Double = row["cert_not_after"] {
                let sans: String = row["cert_sans"] ?? ""
                tls = TLSSession(version: version, cipher: row["cipher"], certificate: CertificateSummary(
                    notAfter: Date(timeIntervalSince1970: notAfter),
                    chainNotAfter: Date(timeIntervalSince1970: row["chain_not_after"] ?? notAfter),
                    subject: row["cert_subject"] ?? "", issuer: row["cert_issuer"] ?? "",
                    subjectAlternativeNames: sans.split(separator: " ").map(String.init)))
            }
            var quantiles: [Double: Double] = [:]
            for (q, column) in zip(ServerHealth.quantiles, ["login_p50", "login_p90", "login_p99", "login_max"]) {
                if let v: Double = row[column] { quantiles[q] = v }
            }
            let capabilities: String = row["capabilities"]
            return ServerHealth(server: row["server"], endpoint: row["endpoint"], checkedAt: Date(timeIntervalSince1970: row["checked_at"]),
                                tls: tls, tlsFailures: row["tls_failures"], tlsFailure: row["tls_failure"], logins: row["logins"],
                                loginSecondsSum: row["login_seconds_sum"], loginQuantiles: quantiles,
                                capabilities: capabilities.split(separator: " ").map(String.init),
                                capabilitiesChangedAt: (row["capabilities_changed_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
        }
    }
}
