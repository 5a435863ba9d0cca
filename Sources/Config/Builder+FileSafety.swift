import Foundation
import Yams

extension Builder {
    func checkConfigPermissions(_ configPath: String) {
        refuseIfWritableByOthers(configPath, key: "", what: "the config")
    }

    /// Files that carry commands, trust or where mail goes (the config, an accounts CSV,
    /// a users or owners file, notice templates, a CA bundle, the sendmail program) are
    /// refused when anyone but root or this user could change them, by their mode, their
    /// owner or a directory above them: whoever can write one could point
    /// password_command at their own program, trust their own certificate (and read
    /// every password), or rewrite what owners are told.
    func refuseIfWritableByOthers(_ path: String, key: String, what: String) {
        guard let why = FilePermissions.othersCanChange(path) else { return }
        reader.error(file: path, line: 1, column: 1, key: key, message: "\(what) \(why): refused; \(Self.remedy(path))")
    }

    /// The same for a file named by a config key: the error points at the key.
    func refuseIfWritableByOthers(_ path: String, node: Node, key: String, what: String) {
        guard let why = FilePermissions.othersCanChange(path) else { return }
        reader.error(node, key, "\(what) \(path) \(why): refused; \(Self.remedy(path))")
    }

    /// A file named by a config key (`null` for none) that only root or this user may
    /// change: a CA bundle, the sendmail program.
    func trustedFile(_ entry: (key: Node, value: Node)?, _ key: String, what: String) -> String? {
        guard let entry, !reader.isNull(entry.value), let file = reader.string(entry.value, key).map(path) else { return nil }
        refuseIfWritableByOthers(file, node: entry.value, key: key, what: what)
        return file
    }

    static func remedy(_ path: String) -> String {
        "make it and the directories above it owned by root (or this user) and not writable by others (chmod go-w \(path))"
    }

    /// The templates directory; it and every template in it must not be writable by others.
    func templatesDir(_ entry: (key: Node, value: Node)?, _ keyPath: String) -> String? {
        guard let entry, let dir = reader.string(entry.value, keyPath).map(path) else { return nil }
        refuseIfWritableByOthers(dir, key: keyPath, what: "the templates directory")
        let files = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []
        for file in files.sorted() {
            refuseIfWritableByOthers((dir as NSString).appendingPathComponent(file), key: keyPath, what: "the template or folder")
        }
        return dir
    }
}
