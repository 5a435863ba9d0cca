import Foundation

/// Throwaway directories and secret files for tests.
enum TestFiles {
    static func directory(_ prefix: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A secret file (mode 0600, as mailgauge expects) holding `text`; returns its path.
    static func secret(_ text: String, in dir: URL, name: String = "wrong.pass") throws -> String {
        let file = dir.appendingPathComponent(name)
        try "\(text)\n".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        return file.path
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
