public import Foundation
public import MailGaugeCore
public import Presentation
public import Store

extension Reports {
    /// `accounts`: the ids in the config now (nil: every account the database holds); an
    /// account removed from the config is not reported.
    public static func reportRows(_ database: AppDatabase, accounts: Set<String>? = nil, now: Date = Date()) throws -> [ReportRow] {
        let weekAgo = now.addingTimeInterval(-7 * 86400)
        var firing: [String: [AlertRules.Key]] = [:]
        for a in try database.firingAlerts() { firing[a.accountID, default: []].append(a.key) }
        return try database.latestStates().filter { accounts?.contains($0.id) ?? true }.map { state in
            let storage = state.quota.first { $0.resource == QuotaResourceName.storage }
            var trend: Double?
            if storage != nil {
                let points = try database.history(account: state.id, since: weekAgo).filter { $0.resource == QuotaResourceName.storage && $0.root == storage?.root }
                if let first = points.first, let last = points.last, last.at.timeIntervalSince(first.at) >= 3600 {
                    trend = (Double(last.usage) - Double(first.usage)) * 1024 / (last.at.timeIntervalSince(first.at) / 86400)
                }
            }
            return ReportRow(
                account: state.id, user: state.user, server: state.server, quotaStatus: state.quotaStatus,
                usedBytes: storage.flatMap { ByteCount.kibibytes($0.usage) },
                limitBytes: storage.flatMap { ByteCount.kibibytes($0.limit) },
                percent: storage.flatMap { $0.limit > 0 ? Double($0.usage) / Double($0.limit) * 100 : nil },
                trendBytesPerDay: trend,
                storageFullAt: state.forecasts.first { $0.resource == QuotaResourceName.storage && $0.root == storage?.root }?.fullAt,
                lastSuccess: state.lastSuccess, ok: state.lastProbeOK,
                failureReason: state.lastProbeOK ? nil : state.failureReason,
                failureMessage: state.lastProbeOK ? nil : state.failureMessage, consecutiveFailures: state.consecutiveFailures,
                alerts: firing[state.id] ?? [], serverAlert: state.serverAlert, serverAlertAt: state.serverAlertAt,
                nextProbeAt: state.nextProbeAt, nextProbeReason: state.nextProbeReason, unknownFigures: state.unknownFigures)
        }
        // Fullest first; accounts without a limit after, by name.
        .sorted { ($0.percent ?? -1, $1.account) > ($1.percent ?? -1, $0.account) }
    }
}
