public import Foundation
import MailGaugeCore
public import Store

extension HTMLPages {
    /// The overview from the stored state (never a live probe); `details`: with every
    /// account's page (the report file), else none (served, each has its own URL).
    public static func overview(_ database: AppDatabase, accounts: Set<String>?, locale: String, since: Date, now: Date = Date(),
                                details: Bool) throws -> Overview {
        let rows = try Reports.reportRows(database, accounts: accounts, now: now)
        var pages: [AccountPage] = []
        if details {
            var folders: [String: [FolderPoint]] = [:]
            for s in try database.latestStates() { folders[s.id] = s.folders }
            pages = try rows.map { try accountPage($0, folders: folders[$0.account] ?? [], database: database, since: since) }
        }
        return Overview(locale: locale, generatedAt: now, since: since, rows: rows, servers: try database.serverHealth(), details: pages,
                        links: details ? .anchors : .pages)
    }

    /// One account's page, or nil when the overview does not hold it.
    public static func accountPage(_ id: String, in overview: Overview, database: AppDatabase) throws -> AccountPage? {
        guard let row = overview.rows.first(where: { $0.account == id }) else { return nil }
        return try accountPage(row, folders: try database.latestFolders(account: id), database: database, since: overview.since)
    }

    static func accountPage(_ row: Reports.ReportRow, folders: [FolderPoint], database: AppDatabase, since: Date) throws -> AccountPage {
        // The STORAGE resource of the root the report shows (the first one holding STORAGE).
        let storage = try database.history(account: row.account, since: since).filter { $0.resource == QuotaResourceName.storage }
        let root = storage.first?.root
        let points = storage.filter { $0.root == root }.map {
            UsageChart.Point(at: $0.at, usedBytes: Double($0.usage) * 1024, limitBytes: $0.limit > 0 ? Double($0.limit) * 1024 : nil)
        }
        return AccountPage(row: row, points: points, folders: folders)
    }
}
