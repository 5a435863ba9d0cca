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
            return try run(command, timeoutSeconds: commandTimeoutSeconds)
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

    static func firstLine(_ text: String) -> String {
        var line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        if line.hasSuffix("\r") { line.removeLast() }
        return line
    }

    /// `password_command`: run by /bin/sh, first line of stdout; stderr is discarded (it
    /// could echo the secret) and only the exit status is reported.
    static func run(_ command: String, timeoutSeconds: Double) throws(ProbeFailure) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ProbeFailure(reason: .secret, message: "secret: cannot start password_command")
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var data = Data()
        let handle = out.fileHandleForReading
        // Read while waiting, so a chatty command cannot block on a full pipe.
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
            if Date() > deadline { break }
        }
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            throw ProbeFailure(reason: .secret, message: "secret: password_command did not finish within \(Int(timeoutSeconds))s")
        }
        guard process.terminationStatus == 0 else {
            throw ProbeFailure(reason: .secret, message: "secret: password_command exited with status \(process.terminationStatus)")
        }
        let line = firstLine(String(decoding: data, as: UTF8.self))
        guard !line.isEmpty else { throw ProbeFailure(reason: .secret, message: "secret: password_command printed nothing") }
        return line
    }
}
