import Foundation
import Yams

/// `owner_email`: an address, or a template built from the login: `{user}` (the whole
/// login), `{local}` (before its last `@`, or all of it), `{domain}` (after its last `@`;
/// empty when the login has none, which leaves such an account without an address).
/// Checked when the config is read, so a typo is an error with its place.
public struct OwnerEmailTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Part: Sendable, Hashable {
        case literal(String)
        case user, local, domain
    }

    let parts: [Part]
    public let description: String

    static let placeholders = ["user", "local", "domain"]

    struct Invalid: Error {
        var message: String
    }

    /// The template, or what is wrong with it.
    static func parse(_ text: String) -> Result<OwnerEmailTemplate, Invalid> {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            literal += rest[..<open]
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else {
                return .failure(Invalid(message: "unbalanced brace in '\(text)': placeholders are {user}, {local} and {domain}"))
            }
            let name = String(rest[rest.index(after: open)..<close])
            let part: Part
            switch name {
            case "user": part = .user
            case "local": part = .local
            case "domain": part = .domain
            default:
                let hint = Suggestion.nearest(to: name, in: placeholders).map { " (did you mean {\($0)}?)" } ?? ""
                return .failure(Invalid(message: "unknown placeholder {\(name)}\(hint): use {user}, {local} or {domain}"))
            }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
            parts.append(part)
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return .success(OwnerEmailTemplate(parts: parts, description: text))
    }

    /// The address for a login; nil when the template needs a part the login lacks.
    public func address(login: String) -> String? {
        let at = login.lastIndex(of: "@")
        let local = at.map { String(login[..<$0]) } ?? login
        let domain = at.map { String(login[login.index(after: $0)...]) } ?? ""
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .user: out += login
            case .local: out += local
            case .domain:
                guard !domain.isEmpty else { return nil }
                out += domain
            }
        }
        return out
    }
}

extension Builder {
    func ownerTemplate(_ entry: (key: Node, value: Node)?, _ key: String) -> OwnerEmailTemplate? {
        guard let entry, let text = reader.string(entry.value, key) else { return nil }
        switch OwnerEmailTemplate.parse(text) {
        case .success(let template): return template
        case .failure(let invalid):
            reader.error(entry.value, key, invalid.message)
            return nil
        }
    }

    /// `owners_file`: a CSV with the columns `user` (a login or account id) and
    /// `owner_email`, for account lists that carry no addresses (master-user lists).
    func loadOwners(_ entry: (key: Node, value: Node)) -> [String: String] {
        guard let file = reader.string(entry.value, "owners_file").map(path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: file) else {
            reader.error(entry.value, "owners_file", "cannot read \(file)")
            return [:]
        }
        // It decides where notices about a mailbox go: nobody else may rewrite it.
        refuseIfWritableByOthers(file, key: "owners_file", what: "the owners file")
        let rows: [[CSVAccounts.Cell]]
        do {
            rows = try CSVAccounts.parse(String(decoding: data, as: UTF8.self))
        } catch let e as CSVAccounts.CSVError {
            reader.error(file: file, line: e.line, column: e.column, key: "owners_file", message: e.message)
            return [:]
        } catch {
            return [:]
        }
        guard let header = rows.first, header.map(\.text) == ["user", "owner_email"] else {
            reader.error(file: file, line: 1, column: 1, key: "owners_file", message: "the header must be: user,owner_email")
            return [:]
        }
        var owners: [String: (address: String, line: Int)] = [:]
        for row in rows.dropFirst() where !(row.count == 1 && row[0].text.isEmpty) {
            let line = row.first?.line ?? 0
            guard row.count == 2, !row[0].text.isEmpty, !row[1].text.isEmpty else {
                reader.error(file: file, line: line, column: 1, key: "owners_file", message: "expected two fields: user,owner_email")
                continue
            }
            if let first = owners[row[0].text] {
                reader.error(file: file, line: line, column: 1, key: "owners_file",
                             message: "'\(row[0].text)' is listed twice (first on line \(first.line))")
                continue
            }
            owners[row[0].text] = (row[1].text, line)
        }
        return owners.mapValues(\.address)
    }

    /// Each account's owner address, first that applies: its own `owner_email`, the
    /// `owners_file` entry (by account id, then login), its server's `owner_email`
    /// template, the default template. (The login itself, when it is an address, is the
    /// last resort; the app applies it, as it judges what an address is.)
    func resolveOwners(_ accounts: [AccountConfig], owners: [String: String], servers: [String: ServerConfig],
                       defaults: OwnerEmailTemplate?) -> [AccountConfig] {
        accounts.map { account in
            var account = account
            if account.ownerEmail == nil {
                account.ownerEmail = owners[account.id] ?? owners[account.user]
                    ?? (servers[account.server]?.ownerEmail ?? defaults)?.address(login: account.user)
            }
            return account
        }
    }
}
