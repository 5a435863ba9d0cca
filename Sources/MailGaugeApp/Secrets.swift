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
            guard let dir = environment["CREDENTIALS_DIRECTORY"] else {
                throw ProbeFailure(reason: .secret, message: "secret: systemd credential \(name) requested but $CREDENTIALS_DIRECTORY is not set (LoadCredential=)")
            }
            return try firstLine(ofFile: "\(dir)/\(name)", what: "systemd credential \(name)")
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
