import ClientNetworking
import Collector
import Config
import Foundation
import IMAPClient
import Logging
import MailGaugeCore

/// Every listed account's quota read in bulk: `master.mode: cyrus_admin` over one admin
/// IMAP session per pass, `dovecot_doveadm` through doveadm's HTTP API every
/// `master.doveadm.interval`. Accounts whose fresh quota is at, over or near a threshold
/// become due for a folder probe now; the others get a quota-only reading stored for this pass.
enum BulkQuotaPass {
    struct Result {
        /// Every bulk account's reading, by account id.
        var readings: [String: BulkQuota.Reading] = [:]
        var at = Date()
        var seconds = 0.0
        var logins = 0
        /// The doveadm APIs that answered (by URL), and when: stored with the run.
        var sources: [String: Double] = [:]

        mutating func merge(_ other: Result) {
            readings.merge(other.readings) { a, _ in a }
            seconds += other.seconds
            logins += other.logins
            sources.merge(other.sources) { a, _ in a }
        }
    }

    /// `dovecot_doveadm`: for each doveadm API whose reading is due (never read, or last
    /// read at least its interval ago, less half a pass for the timer's jitter), every
    /// listed user's quota. A failed reading is logged and not stored as read, so the next
    /// pass tries again; its accounts follow their own schedule meanwhile.
    static func readDoveadm(_ config: MailGaugeConfig, accounts: [AccountConfig], lastRead: [String: Double], now: Date,
                            logger: Logger) async -> Result {
        var result = Result()
        result.at = now
        let started = ContinuousClock.now
        let groups = Dictionary(grouping: accounts.filter { $0.doveadm != nil }) { $0.doveadm!.url }
        for (url, group) in groups.sorted(by: { $0.key < $1.key }) {
            guard let api = group.first?.doveadm else { continue }
            let interval = Scheduling.doveadmInterval(api, config)
            // Stored by its origin, as every output shows it: a token in the URL never
            // reaches the database the mailgauge group reads.
            let source = URLOrigin.display(url)
            guard PassPlan.bulkReadingDue(lastRead: lastRead[source], interval: interval, now: now.timeIntervalSince1970,
                                          options: Scheduling.options(config)) else { continue }
            let endpoint = DoveadmClient.Endpoint(url: url, caFile: api.caFile ?? config.servers[group[0].server]?.caFile,
                                                  timeoutSeconds: api.timeoutSeconds, allowPlaintext: api.allowPlaintext,
                                                  allUsers: api.method == .allUsers)
            do {
                let key = try await Secrets.resolveAsync(api.apiKey)
                let reading = try await DoveadmClient.read(endpoint, apiKey: key, users: Array(Set(group.map(\.user))).sorted())
                for account in group { result.readings[account.id] = reading.quotas[account.user] }
                result.sources[source] = now.timeIntervalSince1970
                if let reason = reading.fellBackToPerUser {
                    logger.warning("doveadm refused allUsers; read per user instead (set master.doveadm.method: per_user to skip the try)",
                                   metadata: ["api": "\(endpoint.display)", "reason": "\(reason)"])
                }
                logger.info("doveadm quota reading", metadata: ["api": "\(endpoint.display)", "users": "\(reading.quotas.count)"])
            } catch {
                logger.error("doveadm quota reading failed; its accounts follow their own schedule, the next pass tries again",
                             metadata: ["api": "\(endpoint.display)", "error": "\(error)"])
            }
        }
        let elapsed = started.duration(to: .now)
        result.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return result
    }

    /// One admin session per (server, admin login) among `targets` (the pass's own: its
    /// TLS contexts and secret cache are shared with the probes). A failed session is
    /// logged; its accounts simply have no reading this pass.
    static func read(_ targets: [ProbeTarget], logger: Logger) async -> Result {
        var result = Result()
        let started = ContinuousClock.now
        let groups = Dictionary(grouping: targets) { "\($0.serverName)\u{0}\($0.loginUser)" }
        for (_, group) in groups.sorted(by: { $0.key < $1.key }) {
            guard let first = group.first, first.setupFailure == nil else { continue }
            result.logins += 1
            do {
                let secret = try await first.secret()
                let readings = try await BulkQuota.read(
                    connection: first.connection,
                    admin: Credentials(user: first.loginUser, secret: secret, mechanism: first.mechanism, authorizationID: nil),
                    users: group.map(\.user), logger: logger)
                for target in group { result.readings[target.accountID] = readings[target.user] }
            } catch {
                logger.error("bulk quota read failed; its accounts follow their own schedule this pass",
                             metadata: ["server": "\(first.serverName)", "admin": "\(first.loginUser)",
                                        "error": "\(ProbeFailure.classify(error).message)"])
            }
        }
        let elapsed = started.duration(to: .now)
        result.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return result
    }
}
