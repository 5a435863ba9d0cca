import Foundation
@testable import MailGaugeCore
import Testing

@Suite("snapshot values and rendering")
struct SnapshotTests {
    static let snapshot = MailboxSnapshot(
        quotaRoots: [QuotaRootUsage(name: "User quota", resources: [
            ResourceUsage(resource: "STORAGE", usage: 3890, limit: 4000), ResourceUsage(resource: "MESSAGE", usage: 317, limit: 400),
        ])],
        quotaStatus: .ok,
        folders: [
            FolderUsage(name: "Sent", rawName: "Sent", specialUse: ["\\Sent"], messages: 64, sizeBytes: 786_019),
            FolderUsage(name: "归档/2024", rawName: "&X1JoYw-/2024", specialUse: [], messages: 16, sizeBytes: 212_472),
            FolderUsage(name: "INBOX", rawName: "INBOX", specialUse: [], messages: 128, sizeBytes: 1_584_872),
        ],
        method: .listStatus, capabilities: ["IMAP4REV1", "QUOTA"], durationSeconds: 0.0493)

    @Test("JSON has the agreed shape and key names")
    func json() throws {
        let text = try SnapshotRendering.json(Self.snapshot)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["quota_roots", "quota_status", "folders", "method", "capabilities", "duration_seconds", "alerts"])
        #expect(object["quota_status"] as? String == "ok")
        #expect(object["method"] as? String == "list-status")
        let roots = try #require(object["quota_roots"] as? [[String: Any]])
        let storage = try #require((roots[0]["resources"] as? [[String: Any]])?.first)
        #expect(storage["resource"] as? String == "STORAGE" && storage["usage"] as? Int == 3890 && storage["limit"] as? Int == 4000)
        let folder = try #require((object["folders"] as? [[String: Any]])?[1])
        #expect(folder["name"] as? String == "归档/2024" && folder["raw_name"] as? String == "&X1JoYw-/2024")
        #expect(folder["special_use"] as? [String] == [] && folder["size_bytes"] as? Int == 212_472 && folder["messages"] as? Int == 16)
        #expect(try JSONDecoder().decode(MailboxSnapshot.self, from: Data(text.utf8)) == Self.snapshot)
    }

    @Test("tables: quota in binary units, folders largest first with shares")
    func table() {
        let text = SnapshotRendering.table(Self.snapshot, title: "carol")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("STORAGE") && $0.contains("3.80 MiB") && $0.contains("3.91 MiB") && $0.contains("97.3 %") })
        #expect(lines.contains { $0.contains("MESSAGE") && $0.contains("317") && $0.contains("400") && $0.contains("79.3 %") })
        let folderRows = lines.drop { !$0.contains("FOLDER") }.dropFirst()
        #expect(folderRows.map { $0.split(separator: " ").first.map(String.init) ?? "" } == ["INBOX", "Sent", "归档/2024"])
        #expect(text.contains("Folders: 3, 208 messages"))
        // CJK names take two terminal columns: the right-aligned columns still line up, so
        // every row (header included) ends at the same display column.
        let header = lines.first { $0.contains("FOLDER") }!
        let widths = Set(([header] + folderRows).map { SnapshotRendering.displayWidth($0) })
        #expect(widths.count == 1, "\(widths)")
    }

    @Test("unlimited and unsupported quota are stated, not shown as zero")
    func quotaStates() {
        var s = Self.snapshot
        s.quotaRoots = []
        s.quotaStatus = .unlimited
        #expect(SnapshotRendering.table(s, title: "t").contains("no limit applies"))
        s.quotaStatus = .unsupported
        #expect(SnapshotRendering.table(s, title: "t").contains("not supported"))
    }

    @Test("sizes and percentages")
    func formats() {
        #expect(SizeFormat.bytes(0) == "0 B")
        #expect(SizeFormat.bytes(1023) == "1023 B")
        #expect(SizeFormat.bytes(1024) == "1.00 KiB")
        #expect(SizeFormat.bytes(5000 * 1024) == "4.88 MiB")
        #expect(SizeFormat.bytes(150 * 1024 * 1024) == "150 MiB")
        #expect(SizeFormat.bytes(UInt64(2.5 * 1024 * 1024 * 1024)) == "2.50 GiB")
        #expect(SizeFormat.percent(0.9725) == "97.3 %")
        #expect(SizeFormat.fixed(-1.25, digits: 1) == "-1.3")
        #expect(ResourceUsage(resource: "STORAGE", usage: 2, limit: 0).fraction == 0)
        #expect(ResourceUsage(resource: "STORAGE", usage: 2, limit: 4).usageInBaseUnits == 2048)
        #expect(ResourceUsage(resource: "MESSAGE", usage: 2, limit: 4).limitInBaseUnits == 4)
    }

    @Test("a sum that cannot be represented is unknown: nil, null in JSON, ? in the table, the reason said; the rest unaffected")
    func unrepresentableSum() throws {
        let max = Quantity.maximum
        #expect(Quantity.sum(max, 1) == nil && Quantity.sum(max - 1, 1) == max)
        #expect(Quantity.sum([UInt64(1), 2, nil]) == nil && Quantity.sum([UInt64(1), 2]) == 3)
        #expect([ByteCount(clamping: max), 1].total() == nil)
        #expect([ByteCount?.none, 5].total() == nil)
        #expect(ByteCount(exactly: max)?.adding(0) == ByteCount(exactly: max))

        let snapshot = MailboxSnapshot(
            quotaRoots: [], quotaStatus: .unsupported,
            folders: [FolderUsage(name: "INBOX", rawName: "INBOX", specialUse: [], messages: 3, sizeBytes: nil),
                      FolderUsage(name: "Sent", rawName: "Sent", specialUse: ["\\Sent"], messages: 2, sizeBytes: 2048)],
            method: .fetch, capabilities: [], durationSeconds: 0.1)
        #expect(snapshot.totalFolderBytes == nil && snapshot.totalMessages == 5)
        #expect(snapshot.unknownFigures == ["size of folder \"INBOX\" unknown: its messages' sizes add up past 2^63-1 bytes"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try SnapshotRendering.json(snapshot).utf8)) as? [String: Any])
        let folders = try #require(object["folders"] as? [[String: Any]])
        #expect(folders[0].keys.contains("size_bytes") && folders[0]["size_bytes"] is NSNull, "null, not left out: \(folders[0])")
        #expect(folders[1]["size_bytes"] as? Int == 2048)
        #expect(try JSONDecoder().decode(MailboxSnapshot.self, from: Data(try SnapshotRendering.json(snapshot).utf8)) == snapshot)
        let table = SnapshotRendering.table(snapshot, title: "t")
        let inbox = try #require(table.split(separator: "\n").first { $0.contains("INBOX") })
        #expect(inbox.contains("?") && !inbox.contains("EiB") && !inbox.contains("8.0"), "\(inbox)")
        #expect(table.contains("Folders: 2, 5 messages, ?"), "\(table)")
        #expect(table.contains("Sent") && table.contains("2.00 KiB"))
        #expect(table.contains("Unknown: size of folder \"INBOX\" unknown"))

        // Folder sizes each representable, their total not: the total is what is unknown.
        let big = FolderUsage(name: "A", rawName: "A", specialUse: [], messages: 1, sizeBytes: ByteCount(exactly: max))
        let two = MailboxSnapshot(quotaRoots: [], quotaStatus: .unsupported, folders: [big, big], method: .fetch, capabilities: [], durationSeconds: 0)
        #expect(two.totalFolderBytes == nil)
        #expect(two.unknownFigures == ["total size of the folders unknown: their sizes add up past 2^63-1 bytes"])
        // Unknown sorts first (it is the largest), then by size.
        #expect(SnapshotRendering.sortedBySize(snapshot.folders).map(\.name) == ["INBOX", "Sent"])
    }
}
