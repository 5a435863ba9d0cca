import ArgumentParser
import Config
import Foundation
import Logging
import Store

/// `-c/--config`, declared once for every command that reads a config.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Config file (YAML); default: $MAILGAUGE_CONFIG, else /etc/mailgauge/mailgauge.yml.")
    var config: String?

    var path: String { ConfigOption.resolve(config) }

    /// One way to name the config everywhere: the option, else MAILGAUGE_CONFIG, else the
    /// packaged path.
    static func resolve(_ given: String?) -> String {
        given ?? ProcessInfo.processInfo.environment["MAILGAUGE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/mailgauge/mailgauge.yml"
    }
}

/// Loads a config, turning its errors into one stderr block and exit 2.
func loadConfig(_ path: String, purpose: ConfigLoader.Purpose = .probe) throws -> ConfigLoader.Loaded {
    do {
        return try ConfigLoader.load(path: path, purpose: purpose)
    } catch {
        throw CommandFailure(message: "invalid config:\n\(error)", exitCode: 2)
    }
}

/// The history, read-only (for `report` and `history`): never migrated, never written, so
/// a user with read access alone can run them.
func openDatabase(configPath: String) throws -> (config: MailGaugeConfig, database: AppDatabase) {
    let config = try loadConfig(configPath, purpose: .read).config
    guard FileManager.default.fileExists(atPath: config.database) else {
        throw CommandFailure(message: "no database at \(config.database) yet: run `mailgauge run -c \(configPath)` first")
    }
    do {
        return (config, try AppDatabase.openReadOnly(path: config.database))
    } catch {
        throw CommandFailure(message: "database \(config.database): \(error)")
    }
}

enum LogSetup {
    static func logger(label: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }
}
