import Foundation

/// Renders a snapshot for `probe`: a quota table and a folder table for people, or one
/// JSON object for scripts.
public enum SnapshotRendering {
    public static func json(_ snapshot: MailboxSnapshot) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(snapshot), as: UTF8.self)
    }

    public static func table(_ snapshot: MailboxSnapshot, title: String) -> String {
        var out = "\(title)  (folders by \(snapshot.method.rawValue), \(SizeFormat.fixed(snapshot.durationSeconds, digits: 2)) s)\n\n"
        switch snapshot.quotaStatus {
        case .unsupported:
            out += "Quota: not supported by this server (no QUOTA capability); folder totals below.\n"
        case .unlimited:
            out += "Quota: no limit applies to this mailbox.\n"
        case .ok:
            var rows: [[String]] = [["ROOT", "RESOURCE", "USED", "LIMIT", "USE"]]
            for root in snapshot.quotaRoots {
                for r in root.resources {
                    let used = SizeFormat.quota(r.usage, resource: r.resource)
                    let limit = SizeFormat.quota(r.limit, resource: r.resource)
                    rows.append([root.name.isEmpty ? "\"\"" : root.name, r.resource, used, limit,
                                 r.limit == 0 ? "-" : SizeFormat.percent(r.fraction)])
                }
            }
            out += render(rows, rightAligned: [2, 3, 4])
        }
        let total = snapshot.totalFolderBytes
        out += "\nFolders: \(snapshot.folders.count), \(snapshot.totalMessages.map { "\($0)" } ?? "?") messages, \(SizeFormat.size(total))\n"
        var rows: [[String]] = [["FOLDER", "SPECIAL", "MESSAGES", "SIZE", "SHARE"]]
        for f in sortedBySize(snapshot.folders) {
            let share = f.sizeBytes.flatMap { size in total.flatMap { $0 == .zero ? nil : SizeFormat.percent(size.doubleValue / $0.doubleValue) } }
            rows.append([DisplayText.line(f.name), f.specialUse.joined(separator: " "), "\(f.messages)", SizeFormat.size(f.sizeBytes),
                         share ?? (f.sizeBytes == nil || total == nil ? "?" : "-")])
        }
        out += render(rows, rightAligned: [2, 3, 4])
        for reason in snapshot.unknownFigures { out += "\nUnknown: \(DisplayText.line(reason))\n" }
        for alert in snapshot.alerts { out += "\nServer alert: \(DisplayText.line(alert))\n" }
        return out
    }

    /// Largest first; ties by name so the order is stable.
    public static func sortedBySize(_ folders: [FolderUsage]) -> [FolderUsage] {
        folders.sorted { SizeOrder.largerFirst(($0.sizeBytes, $0.name), ($1.sizeBytes, $1.name)) }
    }

    /// A plain text table, columns padded by terminal width (CJK takes two columns).
    public static func renderTable(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        render(rows, rightAligned: rightAligned)
    }

    static func render(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], displayWidth(cell)) } }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - displayWidth(cell))
                line += (rightAligned.contains(i) ? pad + cell : cell + pad)
                if i < columns - 1 { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += "  " + line + "\n"
        }
        return out
    }

    /// Terminal columns: East Asian wide characters take two.
    static func displayWidth(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { w, u in
            let v = u.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            return w + (wide ? 2 : 1)
        }
    }
}
