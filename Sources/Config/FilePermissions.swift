import Foundation

enum FilePermissions {
    /// The permission bits of a file (following symlinks), or nil when it cannot be read.
    static func mode(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_mode) & 0o7777
    }
}
