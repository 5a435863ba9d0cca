import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum FilePermissions {
    /// The permission bits of a file (following symlinks), or nil when it cannot be read.
    static func mode(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_mode) & 0o7777
    }

    /// Why someone other than root or this user could change what `path` holds, or nil.
    /// The file itself: owned by root or us, not group- or world-writable. Every
    /// directory above it (of the path as given and of the file a symlink leads to): owned
    /// by root or us, and not writable by others unless sticky (/tmp: others may not
    /// rename or remove what is ours there). A path that does not exist is left to the
    /// check that reads it.
    static func othersCanChange(_ path: String, euid: uid_t = geteuid()) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let trusted: (uid_t) -> Bool = { $0 == 0 || $0 == euid }
        let mode = Int(info.st_mode) & 0o7777
        if !trusted(info.st_uid) { return "is owned by uid \(info.st_uid), not root or this user (uid \(euid))" }
        if mode & 0o022 != 0 {
            return "is writable by \(mode & 0o002 != 0 ? "every user" : "its group") (mode \(String(mode & 0o777, radix: 8)))"
        }
        var directories: [String] = []
        var seen = Set<String>()
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let resolved = realpath(absolute, nil).map { p in defer { free(p) }; return String(cString: p) }
        for start in [absolute, resolved].compactMap({ $0 }) {
            var dir = (start as NSString).deletingLastPathComponent
            while !dir.isEmpty {
                if seen.insert(dir).inserted { directories.append(dir) }
                if dir == "/" { break }
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
        for dir in directories {
            var d = stat()
            guard stat(dir, &d) == 0 else { continue }
            let dmode = Int(d.st_mode) & 0o7777
            let sticky = dmode & 0o1000 != 0
            if !trusted(d.st_uid) {
                return "is in directory \(dir), owned by uid \(d.st_uid) (who could replace it), not root or this user"
            }
            if dmode & 0o022 != 0 && !sticky {
                return "is in directory \(dir), writable by \(dmode & 0o002 != 0 ? "every user" : "its group") (mode \(String(dmode & 0o777, radix: 8))), who could replace it"
            }
        }
        return nil
    }
}
