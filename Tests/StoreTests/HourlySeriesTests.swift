import Foundation
import GRDB
import MailGaugeCore
@testable import Store
import Testing

@Suite("hourly series: codec, merging, repair")
struct HourlySeriesTests {
    typealias Point = HourlySeries.Point

    @Test("round trip: gaps, falls, any Int64 (deltas wrap, nothing traps)")
    func roundTrip() throws {
        let points = [
            Point(hour: 490_000, usage: 1_000, limit: 4_000),
            Point(hour: 490_001, usage: 1_200, limit: 4_000),
            Point(hour: 490_030, usage: 300, limit: 8_000),  // a gap, a clean-up, a raised limit
            Point(hour: 490_031, usage: .max, limit: .min),
            Point(hour: 490_032, usage: .min, limit: .max),
            Point(hour: .max, usage: 0, limit: 0),
        ]
        let blob = HourlySeries(points).encoded()
        #expect(blob.first == HourlySeries.version)
        #expect(HourlySeries(decoding: blob)?.points == points)
        #expect(HourlySeries(decoding: HourlySeries().encoded())?.points == [])
        // Compact: 336 hours of steady growth take about 4 bytes an hour, not a 60-byte row.
        let fortnight = HourlySeries((0..<336).map { Point(hour: 490_000 + Int64($0), usage: 2_000_000 + 7_000 * Int64($0), limit: 5_000_000) })
        #expect(fortnight.encoded().count < 336 * 5)
    }

    @Test("merge keeps each hour's largest usage and limit, hours in order")
    func merge() {
        var series = HourlySeries()
        series.merge(Point(hour: 10, usage: 100, limit: 1000))
        series.merge(Point(hour: 10, usage: 90, limit: 1100))   // same hour: max of each
        series.merge(Point(hour: 12, usage: 120, limit: 1000))  // next hour: appended
        series.merge(Point(hour: 11, usage: 110, limit: 1000))  // the clock went back: in order
        series.merge(Point(hour: 8, usage: 80, limit: 1000))
        #expect(series.points == [Point(hour: 8, usage: 80, limit: 1000), Point(hour: 10, usage: 100, limit: 1100),
                                  Point(hour: 11, usage: 110, limit: 1000), Point(hour: 12, usage: 120, limit: 1000)])
        series.drop(before: 11)
        #expect(series.points.map(\.hour) == [11, 12])
        #expect(series.forecastPoints(from: 12) == [Forecast.Point(time: 12 * 3600, usage: 120, limit: 1000)])
        series.drop(before: 13)
        #expect(series.points.isEmpty)
        #expect(HourlySeries.hour(of: 3599.9) == 0 && HourlySeries.hour(of: 7200) == 2 && HourlySeries.hour(of: .nan) == 0)
    }

    @Test("a blob that is not a well-formed series is refused, not trusted", arguments: [
        [],                                   // empty
        [2, 1, 0, 0],                         // unknown version
        [1, 5, 2],                            // a point cut short
        [1, 0x80],                            // a varint cut short
        [1, 5, 0, 0, 0, 0, 0],                // the second point in the same hour
        [1, 5, 0, 0] + [UInt8](repeating: 0xff, count: 9) + [1, 0, 0],   // a rise of 2^64 - 1: the hour runs backwards
        [1] + [UInt8](repeating: 0x80, count: 10) + [1, 0, 0],          // an 11-byte varint
        [1] + [UInt8](repeating: 0xff, count: 9) + [2, 0, 0],           // past 64 bits
    ] as [[UInt8]])
    func corrupt(_ bytes: [UInt8]) {
        #expect(HourlySeries(decoding: Data(bytes)) == nil)
    }

    @Test("a blob longer than any window is refused")
    func tooLong() {
        let many = HourlySeries((0...HourlySeries.maximumPoints).map { Point(hour: Int64($0), usage: 0, limit: 0) })
        #expect(HourlySeries(decoding: many.encoded()) == nil)
    }

    @Test("the store keeps one series per resource and rebuilds a missing or unreadable one from the samples")
    func repairedFromSamples() throws {
        let db = try AppDatabase.inMemory()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func record(_ step: Int) throws {
            let at = now.addingTimeInterval(-Double(step) * 21600)
            try db.record(startedAt: at, finishedAt: at, outcomes: [StoreTests.ok("grower", at: at, usage: UInt64(1700 - Double(step) * 25))])
        }
        func series() throws -> [String: HourlySeries?] {
            try db.writer.read { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT resource, points FROM quota_series WHERE account_id = 'grower'").map {
                    ($0[0] as String, HourlySeries(decoding: $0[1]))
                })
            }
        }
        for step in stride(from: 28, through: 1, by: -1) { try record(step) }
        let kept = try series()
        #expect(kept["STORAGE"]??.points.count == 28 && kept["MESSAGE"]??.points.count == 28)
        // Unreadable and missing: the next run rebuilds both from quota_sample.
        try db.writer.write { db in
            try db.execute(sql: "UPDATE quota_series SET points = x'02ff' WHERE resource = 'STORAGE'")
            try db.execute(sql: "DELETE FROM quota_series WHERE resource = 'MESSAGE'")
        }
        try record(0)
        let repaired = try series()
        #expect(repaired["STORAGE"]??.points == (kept["STORAGE"]??.points ?? []) + [Point(hour: HourlySeries.hour(of: now.timeIntervalSince1970), usage: 1700, limit: 4000)])
        #expect(repaired["MESSAGE"]??.points.count == 29)
        let forecast = try #require(try db.latestStates().first?.forecasts.first { $0.resource == "STORAGE" })
        #expect(forecast.status == .filling)
    }

    @Test("migration: the hourly rows of an older database become one series per resource")
    func migratedFromRows() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "v9-server-health")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO account (id, user, server, first_seen, last_seen) VALUES ('a', 'a', 's', 0, 0)")
            for (hour, usage) in [(490_002, 30), (490_000, 10), (490_001, 20)] {
                try db.execute(sql: "INSERT INTO quota_hourly VALUES ('a', 'User quota', 'STORAGE', ?, ?, 100)", arguments: [hour * 3600, usage])
            }
            try db.execute(sql: "INSERT INTO quota_hourly VALUES ('a', 'User quota', 'MESSAGE', ?, 5, 50)", arguments: [490_001 * 3600])
        }
        try AppDatabase.migrator.migrate(queue)
        let rows = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT resource, last_hour, points FROM quota_series ORDER BY resource").map {
                ($0[0] as String, $0[1] as Int64, HourlySeries(decoding: $0[2])?.points)
            }
        }
        #expect(rows.count == 2)
        #expect(rows[0].0 == "MESSAGE" && rows[0].1 == 490_001 && rows[0].2 == [Point(hour: 490_001, usage: 5, limit: 50)])
        #expect(rows[1].0 == "STORAGE" && rows[1].1 == 490_002
                && rows[1].2 == [Point(hour: 490_000, usage: 10, limit: 100), Point(hour: 490_001, usage: 20, limit: 100), Point(hour: 490_002, usage: 30, limit: 100)])
        #expect(try queue.read { db in try db.tableExists("quota_hourly") } == false)
    }
}
