public import Config
public import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import MailGaugeCore

/// Reads a secret at the moment it is needed. Errors say where the secret should have
/// come from, never what it is.
public enum Secrets {
    public static func resolve(_ source: SecretSource, environment: [String: String] = ProcessInfo.processInfo.environment,
                               commandTimeoutSeconds: Double = 30) throws(ProbeFailure) -> String {
        switch source {
        case .file(let path):
            return try firstLine(ofFile: path, what: "password file \(path)")
        case .credential(let name):
            return try firstLine(ofFile: credentialPath(name, environment: environment), what: "systemd credential \(name)")
        case .env(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw ProbeFailure(reason: .secret, message: "secret: environment variable \(name) is not set")
            }
            return value
        case .command(let command):
            // Blocks this thread; the run and the SMTP password use `resolveAsync`.
            return try PasswordCommand.runBlocking(command, timeoutSeconds: commandTimeoutSeconds)
        }
    }

    /// systemd's credential store, searched as `LoadCredential=NAME` searches it.
    static let credentialStores = ["/etc/credstore", "/run/credstore", "/usr/lib/credstore"]

    /// Where a systemd credential is: in the unit's `$CREDENTIALS_DIRECTORY` (LoadCredential=),
    /// else in the credential store the units load it from, so an admin's shell (`alert
    /// test`, `check --probe`, a manual `run`) finds the same secret.
    static func credentialPath(_ name: String, environment: [String: String]) throws(ProbeFailure) -> String {
        guard !name.contains("/"), name != "..", name != "." else {
            throw ProbeFailure(reason: .secret, message: "secret: systemd credential name \(name) is not a plain name")
        }
        if let dir = environment["CREDENTIALS_DIRECTORY"], FileManager.default.fileExists(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        if let found = credentialStores.map({ "\($0)/\(name)" }).first(where: { FileManager.default.fileExists(atPath: $0) }) {
            return found
        }
        let searched = ((environment["CREDENTIALS_DIRECTORY"].map { [$0] } ?? []) + credentialStores).joined(separator: ", ")
        throw ProbeFailure(reason: .secret, message: "secret: systemd credential \(name) not found (looked in \(searched))")
    }

    /// Larger than any password or token; a secret file past it is a mistake (a log, a
    /// device), not read.
    static let maxSecretFileBytes = 64 * 1024

    /// A regular file only (a FIFO would block, a device never end), at most
    /// `maxSecretFileBytes`, opened without waiting (O_NONBLOCK) and checked on the open
    /// descriptor, so a swap between check and read changes nothing.
    static func firstLine(ofFile path: String, what: String) throws(ProbeFailure) -> String {
        func failure(_ why: String) -> ProbeFailure { ProbeFailure(reason: .secret, message: "secret: \(what) \(why)") }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw failure("cannot be read (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw failure("is not a regular file") }
        guard info.st_size <= maxSecretFileBytes else { throw failure("is larger than \(maxSecretFileBytes / 1024) KiB") }
        var data = [UInt8](repeating: 0, count: maxSecretFileBytes + 1)
        var count = 0
        while count < data.count {
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            count += n
        }
        guard count <= maxSecretFileBytes else { throw failure("is larger than \(maxSecretFileBytes / 1024) KiB") }
        let line = firstLine(String(decoding: data[..<count], as: UTF8.self))
        guard !line.isEmpty else { throw ProbeFailure(reason: .secret, message: "secret: \(what) is empty") }
        return line
    }

    /// Up to the first line break: LF, CRLF or CR. (In Swift "\r\n" is one Character,
    /// so splitting on "\n" would leave a CRLF file's secret with its line ending.)
    public static func firstLine(_ text: String) -> String {
        String(text.prefix { !$0.isNewline })
    }

    /// Like `resolve`, with `password_command` run off the cooperative pool under a real
    /// deadline (`PasswordCommand`).
    public static func resolveAsync(_ source: SecretSource, environment: [String: String] = ProcessInfo.processInfo.environment,
                                    commandTimeoutSeconds: Double = 30) async throws(ProbeFailure) -> String {
        if case .command(let command) = source {
            return try await PasswordCommand.run(command, timeoutSeconds: commandTimeoutSeconds)
        }
        return try resolve(source, environment: environment, commandTimeoutSeconds: commandTimeoutSeconds)
    }
}
