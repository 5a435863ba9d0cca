public import Foundation
public import MailGaugeCore
public import Presentation
public import Store

extension HTMLPages {
    /// The overview from the stored state (never a live probe); `details`: with every
    /// account's page (the report file), else none (served, each has its own URL).
    public static func overview(_ database: AppDatabase, accounts: Set<String>?, locale: DisplayLocale, since: Date, now: Date = Date(),
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
        // A reading whose usage cannot be represented in bytes is not drawn (unknown, not
        // a point at a made-up height); a limit that cannot be is left out the same way.
        let points = storage.filter { $0.root == root }.compactMap { p -> UsageChart.Point? in
            guard let used = ByteCount.kibibytes(p.usage) else { return nil }
            return UsageChart.Point(at: p.at, usedBytes: used.doubleValue,
                                    limitBytes: p.limit > 0 ? ByteCount.kibibytes(p.limit)?.doubleValue : nil)
        }
        return AccountPage(row: row, points: points, folders: folders)
    }
}
