import Foundation

/// Keeps two `mailgauge run`s from probing at once (a slow run still going when the timer
/// fires again): an exclusive `flock` on `<database>.lock`. The kernel drops the lock when
/// the process dies, even by SIGKILL, so a crash never leaves a stale lock behind.
public final class RunLock {
    private let fd: Int32

    /// Tries for up to `waitSeconds`; nil when another run still holds the lock.
    public static func acquire(databasePath: String, waitSeconds: Double) throws -> RunLock? {
        let path = databasePath + ".lock"
        let directory = (databasePath as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        let deadline = Date().addingTimeInterval(waitSeconds)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK, Date() < deadline else {
                close(fd)
                return nil
            }
            usleep(100_000)
        }
        return RunLock(fd: fd)
    }

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
