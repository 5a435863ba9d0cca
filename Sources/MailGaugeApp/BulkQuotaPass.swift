import Collector
import Foundation
import IMAPClient
import Logging
import MailGaugeCore

/// `master.mode: cyrus_admin`: every listed account's quota read over one admin session
/// per pass. Accounts whose fresh quota is at, over or near a threshold become due for a
/// folder probe now; the others get a quota-only reading stored for this pass.
enum BulkQuotaPass {
    struct Result {
        /// Every bulk account's reading, by account id.
        var readings: [String: BulkQuota.Reading] = [:]
        var at = Date()
        var seconds = 0.0
        var logins = 0
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

    /// Whether a fresh quota reading makes the account due now: at, over or within the
    /// reserve of a threshold (growth is not known here; the stored schedule covers it).
    static func dueNow(_ reading: BulkQuota.Reading, thresholds: AlertRules.Thresholds, options: ProbeSchedule.Options,
                       now: Double) -> Bool {
        guard case .quota(_, let roots) = reading else { return false }
        let outlooks = roots.flatMap { root in
            root.resources.map {
                ProbeSchedule.Outlook(resource: $0.resource, usage: Double($0.usage), limit: Double($0.limit), growth: .init())
            }
        }
        let decision = ProbeSchedule.afterSuccess(probedAt: now, outlooks: outlooks, thresholds: thresholds, options: options)
        return decision.reason == .overThreshold || decision.reason == .nearThreshold
    }
}
