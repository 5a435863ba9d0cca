import Foundation
import Yams

extension Builder {
    func checkConfigPermissions(_ configPath: String) {
        refuseIfWritableByOthers(configPath, key: "", what: "the config")
    }

    /// Files that can carry commands or secrets (the config, an accounts CSV, notice
    /// templates) are refused when others may write them: whoever can write one could
    /// point password_command at their own program, or rewrite what owners are told.
    func refuseIfWritableByOthers(_ path: String, key: String, what: String) {
        guard let mode = FilePermissions.mode(path), mode & 0o022 != 0 else { return }
        reader.error(file: path, line: 1, column: 1, key: key,
                     message: "\(what) is writable by \(mode & 0o002 != 0 ? "every user" : "its group") (mode \(String(mode & 0o777, radix: 8))): refused; run chmod go-w \(path)")
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
