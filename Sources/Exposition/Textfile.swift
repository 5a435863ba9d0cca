import Foundation

/// Writes the node_exporter textfile collector file atomically: a temporary file in the
/// same directory, fsynced, then renamed over the target (and the directory fsynced), so
/// node_exporter never reads half a file.
public enum Textfile {
    public struct WriteError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot write metrics textfile \(path): \(reason)" }
    }

    public static func write(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(path).tmp.\(getpid())"
        // A leftover of a killed run is ours to replace; O_EXCL|O_NOFOLLOW then refuses a
        // file or a symlink someone else slipped in (a shared textfile directory).
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        // 0644 whatever the umask (a unit's UMask=0027 would hide it from node_exporter):
        // metrics hold no secret.
        fchmod(fd, 0o644)
        var ok = true
        var reason = ""
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                ok = false
                reason = String(cString: strerror(errno))
                break
            }
            offset += n
        }
        if ok && fsync(fd) != 0 { ok = false; reason = String(cString: strerror(errno)) }
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            if ok { reason = String(cString: strerror(errno)) }
            unlink(temporary)
            throw WriteError(path: path, reason: reason)
        }
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
