public import Config
public import Foundation
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

    static func firstLine(ofFile path: String, what: String) throws(ProbeFailure) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProbeFailure(reason: .secret, message: "secret: cannot read \(what)")
        }
        let line = firstLine(String(decoding: data, as: UTF8.self))
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
