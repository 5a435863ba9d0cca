import Foundation
import MailGaugeCore

/// A progress bar on a terminal: accounts done, failures, ETA.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let bar: Bool
    private let started = Date()
    private var done = 0
    private var failed = 0
    private var lastDraw = Date.distantPast

    init(total: Int, bar: Bool) {
        self.total = total
        self.bar = bar
    }

    func record(_ outcome: AccountOutcome) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        if outcome.failure != nil { failed += 1 }
        if bar, Date().timeIntervalSince(lastDraw) > 0.1 || done == total { draw() }
    }

    func finish() {
        guard bar else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    private func draw() {
        lastDraw = Date()
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let elapsed = Date().timeIntervalSince(started)
        let eta = done == 0 ? 0 : elapsed / Double(done) * Double(total - done)
        let line = "\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
            + "\(done)/\(total) accounts, \(failed) failed, ETA \(Int(eta) / 60):\(String(format: "%02d", Int(eta) % 60))"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
