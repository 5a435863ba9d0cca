import Yams

/// Walks a Yams node tree, turning each value into a typed one and recording every problem
/// with the file, line, column and key path where it is. Unknown keys are errors (with the
/// nearest valid key as a hint), so a typo never silently falls back to a default.
final class YAMLReader {
    let file: String
    private(set) var errors: [ConfigError] = []

    init(file: String) {
        self.file = file
    }

    func error(_ node: Node?, _ path: String, _ message: String) {
        let mark = node?.mark
        errors.append(ConfigError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, key: path, message: message))
    }

    /// A problem in another file the config points at (users file, accounts CSV).
    func error(file: String, line: Int, column: Int, key: String, message: String) {
        errors.append(ConfigError(file: file, line: line, column: column, key: key, message: message))
    }

    /// The entries of a mapping, checked against the allowed keys. Duplicate keys and keys
    /// that are not strings are errors too.
    func mapping(_ node: Node, _ path: String, allowed: [String]) -> [String: (key: Node, value: Node)] {
        guard case .mapping(let mapping) = node else {
            error(node, path, "expected a mapping (key: value), found \(kind(node))")
            return [:]
        }
        var out: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                error(key, path, "keys must be plain words")
                continue
            }
            let name = scalar.string
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            guard allowed.contains(name) else {
                let hint = Suggestion.nearest(to: name, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                error(key, keyPath, "unknown key\(hint); valid keys here: \(allowed.joined(separator: ", "))")
                continue
            }
            if out[name] != nil {
                error(key, keyPath, "duplicate key")
                continue
            }
            out[name] = (key, value)
        }
        return out
    }

    func kind(_ node: Node) -> String {
        switch node {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    func isNull(_ node: Node) -> Bool {
        if case .scalar(let s) = node, s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) { return true }
        return false
    }

    func string(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let s) = node else {
            error(node, path, "expected a string, found \(kind(node))")
            return nil
        }
        return s.string
    }

    func int(_ node: Node, _ path: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, path) else { return nil }
        guard let value = Int(text.trimmingSpaces) else {
            error(node, path, "expected a whole number, found '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            error(node, path, "must be from \(range.lowerBound) to \(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    func bool(_ node: Node, _ path: String) -> Bool? {
        guard let text = string(node, path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error(node, path, "expected true or false, found '\(text)'")
            return nil
        }
    }

    /// A duration within `range` (seconds): every duration ends up in a timer or a date,
    /// where an absurd value would trap or never fire.
    func duration(_ node: Node, _ path: String, range: ClosedRange<Double>, allowForever: Bool = false) -> Double?? {
        guard let text = string(node, path) else { return nil }
        if allowForever, text == "forever" { return .some(nil) }
        guard let seconds = Units.duration(text) else {
            error(node, path, "expected a duration such as 30s, 15m, 7d or 1h30m\(allowForever ? " (or forever)" : ""), found '\(text)'")
            return nil
        }
        guard range.contains(seconds) else {
            error(node, path, "must be from \(Units.describe(seconds: range.lowerBound)) to \(Units.describe(seconds: range.upperBound)), found '\(text)'")
            return nil
        }
        return .some(seconds)
    }

    func percent(_ node: Node, _ path: String) -> Double? {
        guard let text = string(node, path) else { return nil }
        guard let value = Units.percent(text) else {
            error(node, path, "expected a percentage from 0% to 100%, found '\(text)'")
            return nil
        }
        return value
    }

    func size(_ node: Node, _ path: String) -> UInt64? {
        guard let text = string(node, path) else { return nil }
        guard let value = Units.size(text) else {
            error(node, path, "expected a size such as 500M or 2G (binary units), found '\(text)'")
            return nil
        }
        return value
    }

    func oneOf(_ node: Node, _ path: String, _ choices: [String]) -> String? {
        guard let text = string(node, path) else { return nil }
        guard choices.contains(text) else {
            let hint = Suggestion.nearest(to: text, in: choices).map { " (did you mean '\($0)'?)" } ?? ""
            error(node, path, "must be one of \(choices.joined(separator: ", ")), found '\(text)'\(hint)")
            return nil
        }
        return text
    }

    /// One of a closed set's raw values, typed.
    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, _ type: T.Type) -> T? where T.RawValue == String {
        oneOf(node, path, T.allCases.map(\.rawValue)).flatMap(T.init(rawValue:))
    }

    func sequence(_ node: Node, _ path: String) -> [Node] {
        guard case .sequence(let seq) = node else {
            error(node, path, "expected a list, found \(kind(node))")
            return []
        }
        return Array(seq)
    }

    func stringList(_ node: Node, _ path: String) -> [String] {
        if case .scalar = node { return string(node, path).map { [$0] } ?? [] }
        return sequence(node, path).enumerated().compactMap { string($1, "\(path)[\($0)]") }
    }

    func location(_ node: Node) -> String {
        "\(file):\(node.mark?.line ?? 1)"
    }
}
