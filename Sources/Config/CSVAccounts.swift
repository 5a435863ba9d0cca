import Foundation
import Yams

/// Accounts from a CSV file (`accounts_file`): a header row naming columns, then one
/// account per row. Written by hand (RFC 4180 quoting, ~40 lines) rather than with a CSV
/// library because every error must carry the row and column it came from.
enum CSVAccounts {
    static let columns = ["id", "user", "server", "password_file", "password_env", "password_command", "password_credential",
                          "token_file", "auth", "warning", "critical", "forecast_horizon", "min_free", "owner_email", "locale",
                          "notify_owner"]

    static func load(path: String, node: Node, reader: YAMLReader, builder: Builder, defaults: Defaults,
                     servers: [String: ServerConfig]) -> [AccountConfig] {
        guard let data = FileManager.default.contents(atPath: path) else {
            reader.error(node, "accounts_file", "cannot read \(path)")
            return []
        }
        builder.refuseIfWritableByOthers(path, key: "accounts_file", what: "the accounts file")
        let rows: [[Cell]]
        do {
            rows = try parse(String(decoding: data, as: UTF8.self))
        } catch let e as CSVError {
            reader.error(file: path, line: e.line, column: e.column, key: "accounts_file", message: e.message)
            return []
        } catch {
            return []
        }
        guard let header = rows.first else {
            reader.error(node, "accounts_file", "\(path) is empty")
            return []
        }
        for cell in header where !columns.contains(cell.text) {
            let hint = Suggestion.nearest(to: cell.text, in: columns).map { " (did you mean '\($0)'?)" } ?? ""
            reader.error(file: path, line: cell.line, column: cell.column, key: "accounts_file", message: "unknown column '\(cell.text)'\(hint)")
        }
        var accounts: [AccountConfig] = []
        for row in rows.dropFirst() where !(row.count == 1 && row[0].text.isEmpty) {
            // Build the same mapping a YAML account would have, so one code path validates both.
            var yaml = ""
            for (cell, name) in zip(row, header.map(\.text)) where !cell.text.isEmpty && columns.contains(name) {
                yaml += "\(name): \(quoted(cell.text))\n"
            }
            guard let mapping = try? Yams.compose(yaml: yaml, .basic) else { continue }
            let sub = YAMLReader(file: path)
            let rowBuilder = Builder(reader: sub, baseDirectory: builder.baseDirectory, environment: builder.environment,
                                     checksSecrets: builder.checksSecrets)
            let line = row.first?.line ?? 0
            if let account = rowBuilder.buildAccount(mapping, "row \(line)", defaults: defaults, servers: servers) {
                var account = account
                account.definedAt = "\(path):\(line)"
                accounts.append(account)
            }
            // YAML marks point into the generated snippet: map them back to the CSV cell.
            for e in sub.errors {
                let column = zip(row, header.map(\.text)).first { e.key.hasSuffix(".\($0.1)") }?.0.column ?? 1
                reader.error(file: path, line: line, column: column, key: e.key, message: e.message)
            }
            builder.warnings += rowBuilder.warnings
        }
        return accounts
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    struct Cell {
        var text: String
        var line: Int
        var column: Int
    }

    struct CSVError: Error {
        var line: Int
        var column: Int
        var message: String
    }

    /// RFC 4180: fields separated by commas, optionally double-quoted ("" inside quotes is a
    /// quote), records separated by LF or CRLF. Lines starting with # are comments.
    static func parse(_ text: String) throws -> [[Cell]] {
        var rows: [[Cell]] = []
        var row: [Cell] = []
        var field = ""
        var line = 1, column = 1, fieldColumn = 1, fieldLine = 1
        var inQuotes = false, atLineStart = true, quotedField = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if atLineStart && c == "#" && !inQuotes {
                while let n = chars.first, n != "\n" { chars = chars.dropFirst() }
                continue
            }
            atLineStart = false
            if inQuotes {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars = chars.dropFirst(); column += 2; continue }
                    inQuotes = false
                } else {
                    field.append(c)
                    if c == "\n" { line += 1; column = 0 }
                }
                column += 1
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty && !quotedField else { throw CSVError(line: line, column: column, message: "quote inside an unquoted field") }
                inQuotes = true
                quotedField = true
            case ",":
                row.append(Cell(text: quotedField ? field : field.trimmingSpaces, line: fieldLine, column: fieldColumn))
                field = ""; quotedField = false; fieldColumn = column + 1; fieldLine = line
            case "\n", "\r\n":
                row.append(Cell(text: quotedField ? field : field.trimmingSpaces, line: fieldLine, column: fieldColumn))
                rows.append(row)
                row = []; field = ""; quotedField = false
                line += 1; column = 0; fieldColumn = 1; fieldLine = line; atLineStart = true
            case "\r":
                break
            default:
                guard !quotedField else { throw CSVError(line: line, column: column, message: "text after a closing quote") }
                field.append(c)
            }
            column += 1
        }
        if inQuotes { throw CSVError(line: fieldLine, column: fieldColumn, message: "unclosed quote") }
        if !field.isEmpty || !row.isEmpty {
            row.append(Cell(text: quotedField ? field : field.trimmingSpaces, line: fieldLine, column: fieldColumn))
            rows.append(row)
        }
        return rows
    }
}
