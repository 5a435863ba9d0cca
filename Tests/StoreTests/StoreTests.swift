import Foundation
import GRDB
import MailGaugeCore
@testable import Store
import Testing

@Suite("history store")
struct StoreTests {
    static func snapshot(usage: UInt64, limit: UInt64 = 4000, folders: [(String, UInt64)] = [("INBOX", 100), ("Sent", 50)]) -> MailboxSnapshot {
        MailboxSnapshot(
            quotaRoots: [QuotaRootUsage(name: "User quota", resources: [
                ResourceUsage(resource: "STORAGE", usage: usage, limit: limit), ResourceUsage(resource: "MESSAGE", usage: 10, limit: 400),
            ])],
            quotaStatus: .ok,
            folders: folders.map { FolderUsage(name: $0.0, rawName: $0.0, specialUse: $0.0 == "Sent" ? ["\\Sent"] : [], messages: 3, sizeBytes: ByteCount(clamping: $0.1)) },
            method: .listStatus, capabilities: ["QUOTA"], durationSeconds: 0.05)
    }

    static func ok(_ id: String, at: Date, usage: UInt64) -> AccountOutcome {
        AccountOutcome(accountID: id, user: "\(id)@x", server: "corp", at: at, durationSeconds: 0.1, result: .success(snapshot(usage: usage)))
    }

    static func failed(_ id: String, at: Date, _ reason: FailureReason = .auth) -> AccountOutcome {
        AccountOutcome(accountID: id, user: "\(id)@x", server: "corp", at: at, durationSeconds: 0.2,
                       result: .failure(ProbeFailure(reason: reason, message: "\(reason): nope")), attempts: 2)
    }

    @Test("a run stores samples, failures and account state")
    func recordAndRead() throws {
        let db = try AppDatabase.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let s1 = try db.record(startedAt: t0, finishedAt: t0 + 5, outcomes: [Self.ok("alice", at: t0, usage: 1000), Self.failed("bob", at: t0)])
        #expect(s1.accounts == 2 && s1.failures == 1)
        let t1 = t0 + 900
        try db.record(startedAt: t1, finishedAt: t1 + 5, outcomes: [Self.failed("alice", at: t1, .timeout), Self.failed("bob", at: t1)])
        let states = Dictionary(uniqueKeysWithValues: try db.latestStates().map { ($0.id, $0) })
        let alice = try #require(states["alice"])
        #expect(!alice.lastProbeOK && alice.failureReason == .timeout && alice.consecutiveFailures == 1)
        #expect(alice.lastSuccess == t0, "last success survives a failure")
        #expect(alice.quota.map(\.usage) == [10, 1000] && alice.folders.map(\.name) == ["INBOX", "Sent"])
        let bob = try #require(states["bob"])
        #expect(bob.lastSuccess == nil && bob.consecutiveFailures == 2 && bob.quota.isEmpty)
        try db.record(startedAt: t1 + 900, finishedAt: t1 + 905, outcomes: [Self.ok("alice", at: t1 + 900, usage: 1200)])
        #expect(try db.latestStates().first { $0.id == "alice" }?.consecutiveFailures == 0)
        let history = try db.history(account: "alice", since: t0 - 1).filter { $0.resource == "STORAGE" }
        #expect(history.map(\.usage) == [1000, 1200] && history.allSatisfy { $0.resolution == .raw })
        #expect(try db.failureCounts()["bob"] == ["auth": 2])
        #expect(try db.folderHistory(account: "alice", since: t0 - 1).count == 4)
    }

    @Test("retention: raw to hourly maxima, hourly to daily, daily dropped")
    func retention() throws {
        let db = try AppDatabase.inMemory()
        let day = 86400.0
        let base = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: day))
        // Three samples in one old hour, with a peak in the middle.
        for (i, usage) in [100, 300, 200].enumerated() {
            let at = base + Double(i) * 600
            try db.record(startedAt: at, finishedAt: at, outcomes: [Self.ok("a", at: at, usage: UInt64(usage))])
        }
        let recent = base + 40 * day
        let policy = RetentionPolicy(rawSeconds: 35 * day, hourlySeconds: 400 * day, dailySeconds: nil)
        let summary = try db.record(startedAt: recent, finishedAt: recent, outcomes: [Self.ok("a", at: recent, usage: 500)], retention: policy)
        #expect(summary.pruned > 0)
        let points = try db.history(account: "a", since: base - day).filter { $0.resource == "STORAGE" }
        #expect(points.map(\.resolution) == [.hour, .raw])
        #expect(points.map(\.usage) == [300, 500], "the hour keeps its peak")
        #expect(points.first?.at == base)

        let later = base + 500 * day
        try db.record(startedAt: later, finishedAt: later, outcomes: [Self.ok("a", at: later, usage: 600)], retention: policy)
        let rolled = try db.history(account: "a", since: base - day).filter { $0.resource == "STORAGE" }
        // Both older samples are now past the hourly retention (500 and 460 days old): days.
        #expect(rolled.map(\.resolution) == [.day, .day, .raw], "\(rolled)")
        #expect(rolled.map(\.usage) == [300, 500, 600])

        let dropAll = RetentionPolicy(rawSeconds: 1, hourlySeconds: 1, dailySeconds: 1)
        try db.record(startedAt: later + 10 * day, finishedAt: later + 10 * day, outcomes: [], retention: dropAll)
        #expect(try db.history(account: "a", since: base - day).isEmpty)
    }

    @Test("forecasts are computed at the end of each run from hourly history")
    func forecasts() throws {
        let db = try AppDatabase.inMemory()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        // Every 6 hours for 7 days: 1,000 KiB growing 100 KiB a day against a 4,000 KiB limit.
        for step in stride(from: 28, through: 0, by: -1) {
            let at = now.addingTimeInterval(-Double(step) * 21600)
            let usage = UInt64(1700 - Double(step) * 25)
            try db.record(startedAt: at, finishedAt: at, outcomes: [Self.ok("grower", at: at, usage: usage), Self.ok("flat", at: at, usage: 2000)])
        }
        let states = Dictionary(uniqueKeysWithValues: try db.latestStates().map { ($0.id, $0) })
        let storage = try #require(states["grower"]?.forecasts.first { $0.resource == "STORAGE" })
        #expect(storage.status == .filling)
        let days = try #require(storage.fullAt).timeIntervalSince(now) / 86400
        #expect(abs(days - 23) < 0.5, "\(days) days")  // (4000 - 1700) / 100
        #expect(states["flat"]?.forecasts.first { $0.resource == "STORAGE" }?.status == .notGrowing)
        #expect(states["flat"]?.forecasts.first { $0.resource == "STORAGE" }?.fullAt == nil)
    }

    @Test("next due times from the stored history: growing sooner than flat, failing next pass, over a threshold every pass")
    func dueTimes() throws {
        let db = try AppDatabase.inMemory()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let schedule = ProbeSchedule.Settings(options: .init(), thresholds: { _ in AlertRules.Thresholds() })
        // Every 6 hours for 3 days; limits are 4,000 KiB (see snapshot).
        for step in stride(from: 12, through: 0, by: -1) {
            let at = now.addingTimeInterval(-Double(step) * 21600)
            try db.record(startedAt: at, finishedAt: at, outcomes: [
                Self.ok("jumpy", at: at, usage: step > 3 ? 1000 : 1600),  // flat, one jump of 600 KiB
                Self.ok("flat", at: at, usage: 1000),
                Self.ok("high", at: at, usage: 3300),  // 82.5 %
                step == 0 ? Self.failed("broken", at: at) : Self.ok("broken", at: at, usage: 1000),
            ], schedule: schedule)
        }
        let states = Dictionary(uniqueKeysWithValues: try db.latestStates().map { ($0.id, $0) })
        let due = try db.probeDueTimes()
        let t = now.timeIntervalSince1970
        #expect(states["flat"]?.nextProbeReason == .headroom && due["flat"] == t + 86400)
        // Not filling (the forecast's median slope is flat), but the jump seen counts: 3,200 −
        // 1,600 − 2 × 600 = 400 KiB of headroom at 600 KiB per 6 h, halved: 2 hours.
        #expect(states["jumpy"]?.nextProbeReason == .headroom && due["jumpy"] == t + 7200)
        #expect(states["high"]?.nextProbeReason == .overThreshold && due["high"] == t + 900)
        #expect(states["broken"]?.nextProbeReason == .failing && due["broken"] == t + 900)
    }

    @Test("a quota-only reading brings a folder probe forward, never pushes it back; folders stay the last probe's")
    func quotaOnlyReadings() throws {
        let db = try AppDatabase.inMemory()
        let schedule = ProbeSchedule.Settings(options: .init(), thresholds: { _ in AlertRules.Thresholds() })
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try db.record(startedAt: t0, finishedAt: t0, outcomes: [Self.ok("quiet", at: t0, usage: 1000)], schedule: schedule)
        let due0 = try #require(try db.probeDueTimes()["quiet"])
        #expect(due0 == t0.timeIntervalSince1970 + 86400)
        func quotaOnly(_ usage: UInt64, at: Date) -> AccountOutcome {
            let roots = Self.snapshot(usage: usage).quotaRoots
            return AccountOutcome(accountID: "quiet", user: "quiet@x", server: "corp", at: at, durationSeconds: 0,
                                  result: .success(.quotaOnly(roots, status: .ok, durationSeconds: 0)))
        }
        let t1 = t0 + 900
        try db.record(startedAt: t1, finishedAt: t1, outcomes: [quotaOnly(1000, at: t1)], schedule: schedule)
        #expect(try db.probeDueTimes()["quiet"] == due0, "a quiet reading does not push it back")
        let state = try #require(try db.latestStates().first)
        #expect(state.folders.map(\.name) == ["INBOX", "Sent"] && state.quota.first { $0.resource == "STORAGE" }?.usage == 1000)
        let t2 = t0 + 1800
        try db.record(startedAt: t2, finishedAt: t2, outcomes: [quotaOnly(3300, at: t2)], schedule: schedule)  // 82.5 %
        #expect(try db.probeDueTimes()["quiet"] == t2.timeIntervalSince1970 + 900, "over a threshold: the next pass")
        #expect(try db.latestStates().first?.quota.first { $0.resource == "STORAGE" }?.usage == 3300)
    }

    @Test("forecasts are recomputed only when the hourly series moved: a larger usage, or a new hour")
    func forecastsOnlyWhenChanged() throws {
        let db = try AppDatabase.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func computedAt(_ id: String) throws -> Double? {
            try db.writer.read { try Double.fetchOne($0, sql: "SELECT MIN(computed_at) FROM forecast WHERE account_id = ?", arguments: [id]) }
        }
        try db.record(startedAt: t0, finishedAt: t0, outcomes: [Self.ok("same", at: t0, usage: 1000), Self.ok("moving", at: t0, usage: 1000)])
        let t1 = t0 + 900
        try db.record(startedAt: t1, finishedAt: t1, outcomes: [Self.ok("same", at: t1, usage: 1000), Self.ok("moving", at: t1, usage: 1010)])
        #expect(try computedAt("same") == t0.timeIntervalSince1970)
        #expect(try computedAt("moving") == t1.timeIntervalSince1970)
        let t2 = t0 + 3700
        try db.record(startedAt: t2, finishedAt: t2, outcomes: [Self.ok("same", at: t2, usage: 1000)])
        #expect(try computedAt("same") == t2.timeIntervalSince1970)
    }

    @Test("a run larger than the worker's hand-over batch saves every account's forecasts and due time")
    func forecastsOfALargeRun() throws {
        let db = try AppDatabase.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let schedule = ProbeSchedule.Settings(options: .init(), thresholds: { _ in AlertRules.Thresholds() })
        for step in 0..<2 {
            let at = t0 + Double(step) * 3600
            try db.record(startedAt: at, finishedAt: at, outcomes: (0..<600).map { Self.ok("u\($0)", at: at, usage: UInt64(1000 + $0 + step)) },
                          schedule: schedule)
        }
        let (forecasts, computed, due) = try db.writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM forecast") ?? 0,
             try Double.fetchOne(db, sql: "SELECT MIN(computed_at) FROM forecast") ?? 0,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM account WHERE next_probe_at IS NOT NULL") ?? 0)
        }
        #expect(forecasts == 1200 && computed == t0.timeIntervalSince1970 + 3600 && due == 600)
    }

    @Test("a state read before a run, brought up to date with the accounts it stored, equals one read after it")
    func stateUpdatedAfterRun() throws {
        let db = try AppDatabase.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try db.record(startedAt: t0, finishedAt: t0, outcomes: [Self.ok("a", at: t0, usage: 1000), Self.ok("b", at: t0, usage: 2000),
                                                                Self.failed("c", at: t0)])
        let before = try db.storedState()
        let t1 = t0 + 3600
        // b grows, c recovers, d is new; a is not probed.
        let run = [Self.ok("b", at: t1, usage: 2500), Self.ok("c", at: t1, usage: 10), Self.failed("d", at: t1)]
        try db.record(startedAt: t1, finishedAt: t1, outcomes: run)
        let updated = try db.storedState(updating: before, accounts: run.map(\.accountID))
        let after = try db.storedState()
        #expect(updated.states == after.states)
        #expect(updated.states.map(\.id) == ["a", "b", "c", "d"])
        #expect(updated.failureCounts == after.failureCounts && updated.lastRun == after.lastRun)
        #expect(updated.states.first { $0.id == "b" }?.quota.first { $0.resource == "STORAGE" }?.usage == 2500)
    }

    @Test("file database: WAL mode, schema migrated once, reopened intact")
    func fileDatabase() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mg-store-\(UUID()).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let db = try AppDatabase(path: path)
        try db.record(startedAt: Date(), finishedAt: Date(), outcomes: [Self.ok("a", at: Date(), usage: 1)])
        let mode = try db.writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let reopened = try AppDatabase(path: path)
        #expect(try reopened.latestStates().count == 1)
        let integrity = try reopened.writer.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
    }

    @Test("a run is stored without foreign-key checks yet leaves none broken, and the checks are back on after it")
    func foreignKeysAroundARun() throws {
        let db = try AppDatabase.inMemory()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try db.record(startedAt: t0, finishedAt: t0 + 5, outcomes: [Self.ok("a", at: t0, usage: 1), Self.failed("b", at: t0)],
                      retention: RetentionPolicy(rawSeconds: 3600, hourlySeconds: 86400, dailySeconds: nil))
        let (broken, enforced) = try db.writer.read { db in
            (try Row.fetchAll(db, sql: "PRAGMA foreign_key_check"), try Bool.fetchOne(db, sql: "PRAGMA foreign_keys"))
        }
        #expect(broken.isEmpty && enforced == true)
        // Enforced again: a sample of an account that does not exist is refused.
        #expect(throws: DatabaseError.self) {
            try db.writer.write { db in
                try db.execute(sql: "INSERT INTO quota_sample (account_id, at, run_id, root, resource, usage, \"limit\") VALUES ('ghost', 1, 1, '', 'STORAGE', 1, 2)")
            }
        }
        // Cascades still work: forgetting an account removes its history.
        _ = try db.accountsNotIn(["b"], remove: true)
        #expect(try db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM quota_sample") } == 0)
    }

    @Test("a commit leaves the write-ahead log for checkpoint() to copy after the pass's outputs")
    func checkpointAfterThePass() async throws {
        // Seconds of synchronous SQLite: off the cooperative pool, which other suites'
        // timing tests share (a blocked pool thread starved their sleeping tasks).
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async { done.resume(with: Result { try Self.checkpointAfterThePassBody() }) }
        }
    }

    static func checkpointAfterThePassBody() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mg-ckpt-\(UUID()).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let db = try AppDatabase(path: path)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        // More than SQLite's automatic threshold (1,000 pages) written in one run.
        let outcomes = (0..<5000).map { Self.ok("user\($0)", at: t0, usage: UInt64($0)) }
        try db.record(startedAt: t0, finishedAt: t0 + 5, outcomes: outcomes)
        let size = { (file: String) in try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int ?? 0 }
        #expect(try size(path + "-wal") / 4096 > 1000)
        // The commit copied nothing into the database file (an automatic checkpoint would
        // have): the run's pages are still only in the log.
        let before = try size(path)
        try db.checkpoint()
        let after = try size(path)
        #expect(after / 4096 > 1000 && before < after / 4, "database file \(before) bytes before the checkpoint, \(after) after")
        #expect(try AppDatabase(path: path).latestStates().count == 5000)
    }
}

@Suite("database file mode")
struct DatabaseModeTests {
    @Test("a new database is created 0640 (owner writes, the group reads, others nothing), its WAL and index too")
    func ownerOnly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-dbmode-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("h.sqlite").path
        let db = try AppDatabase(path: path)
        try db.record(startedAt: Date(), finishedAt: Date(), outcomes: [])
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode & 0o777 == 0o640, "\(file): \(String(mode, radix: 8))")
        }
    }

    @Test("an older database readable or writable by others is narrowed to 0640 when the writer opens it, its WAL and index too")
    func narrowsOldMode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mg-dbmode-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("h.sqlite").path
        try AppDatabase(path: path).record(startedAt: Date(), finishedAt: Date(), outcomes: [])
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) { chmod(file, 0o666) }
        _ = try AppDatabase(path: path)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode & 0o777 == 0o640, "\(file): \(String(mode, radix: 8))")
        }
    }
}
