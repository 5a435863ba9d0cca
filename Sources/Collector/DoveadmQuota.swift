public import Foundation
import MailGaugeCore

/// Dovecot's doveadm HTTP API for quotas (`master.mode: dovecot_doveadm`): the request
/// body for a batch of users and the reading of its answer. Pure: no I/O (see
/// `DoveadmClient` for the transport).
///
/// A request is a JSON array of commands, `["quotaGet", {"user": LOGIN}, TAG]`; the
/// answer is one entry per command, in order, carrying its tag:
/// `["doveadmResponse", [{"root", "type", "value", "limit", "percent"}, …], TAG]` or
/// `["error", {"type", "exitCode"}, TAG]`. Values are decimal strings, STORAGE in KiB as
/// in IMAP, "-" for no limit. Tags are the users' positions in the batch, so nothing a
/// server echoes is needed to tell whose answer is whose, and a repeated, unknown or
/// missing tag is caught.
public enum DoveadmQuota {
    /// Users per request: one answer of ≈ 250 bytes per user keeps a batch near 125 KB.
    public static let batchSize = 500
    /// The most bytes a batch's answer may take: 4 KiB per user, far above any real one.
    public static func maxResponseBytes(users: Int) -> Int { 16 * 1024 + users * 4096 }
    /// Bounds on what one user's answer may carry.
    static let maxResourcesPerUser = 32
    static let maxNameBytes = 256

    /// doveadm's exit code for an unknown user (EX_NOUSER).
    static let exitNoUser = 67

    public struct ResponseError: Error, Sendable, CustomStringConvertible, Equatable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public static func requestBody(users: [String]) -> Data {
        let commands: [[Any]] = users.enumerated().map { index, user in ["quotaGet", ["user": user], String(index)] }
        // Strings and small dictionaries only: serialisation cannot fail.
        return (try? JSONSerialization.data(withJSONObject: commands, options: [.sortedKeys])) ?? Data("[]".utf8)
    }

    /// Each user's reading, by login. A malformed answer (not the shape above, a tag
    /// repeated, missing or out of range) is refused whole: nothing in it is trusted. A
    /// well-formed entry with an unusable figure (negative, past 2^63, not a number)
    /// leaves that user without a reading: it follows its own schedule.
    public static func readings(_ body: Data, users: [String]) throws(ResponseError) -> [String: BulkQuota.Reading] {
        guard body.count <= maxResponseBytes(users: users.count) else {
            throw ResponseError("answer of \(body.count) bytes for \(users.count) users")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: body, options: [])
        } catch {
            throw ResponseError("answer is not JSON")
        }
        guard let entries = parsed as? [Any] else { throw ResponseError("answer is not a JSON array") }
        guard entries.count == users.count else {
            throw ResponseError("\(entries.count) answers for \(users.count) users")
        }
        var readings: [String: BulkQuota.Reading] = [:]
        var seen = Set<Int>()
        for entry in entries {
            guard let triple = entry as? [Any], triple.count == 3, let kind = triple[0] as? String,
                  let tag = triple[2] as? String, tag.utf8.count <= 6, let index = Int(tag), users.indices.contains(index),
                  seen.insert(index).inserted else {
                throw ResponseError("an answer is not [kind, payload, tag] with a tag this request sent")
            }
            switch kind {
            case "doveadmResponse":
                guard let rows = triple[1] as? [Any] else { throw ResponseError("a quotaGet answer is not a list") }
                if let reading = reading(rows) { readings[users[index]] = reading }
            case "error":
                let code = ((triple[1] as? [String: Any])?["exitCode"] as? NSNumber)?.intValue
                readings[users[index]] = .refused(code == exitNoUser ? "doveadm: no such user" : "doveadm: error, exit code \(code.map(String.init) ?? "unknown")")
            default:
                throw ResponseError("an answer of unknown kind")
            }
        }
        return readings
    }

    /// One user's rows as IMAP's GETQUOTAROOT would give them: roots in the order seen,
    /// and only the resources that have a limit (Dovecot's IMAP leaves the others out).
    static func reading(_ rows: [Any]) -> BulkQuota.Reading? {
        guard rows.count <= maxResourcesPerUser else { return nil }
        var roots: [QuotaRootUsage] = []
        for row in rows {
            guard let fields = row as? [String: Any], let root = name(fields["root"]), let type = resourceName(fields["type"]),
                  let usage = figure(fields["value"]) else { return nil }
            let limitText = fields["limit"] as? String
            if limitText == "-" { // no limit of this kind: kept as a root without it
                if !roots.contains(where: { $0.name == root }) { roots.append(QuotaRootUsage(name: root, resources: [])) }
                continue
            }
            guard let limit = figure(fields["limit"]) else { return nil }
            let resource = ResourceUsage(resource: type, usage: usage, limit: limit)
            if let i = roots.firstIndex(where: { $0.name == root }) {
                guard !roots[i].resources.contains(where: { $0.resource == type }) else { return nil }
                roots[i].resources.append(resource)
            } else {
                roots.append(QuotaRootUsage(name: root, resources: [resource]))
            }
        }
        return .quota(roots.contains { !$0.resources.isEmpty } ? .ok : .unlimited, roots)
    }

    /// A decimal figure as doveadm sends it, a string of digits: 0…2^63−1 (IMAP's bound).
    static func figure(_ value: Any?) -> UInt64? {
        guard let text = value as? String, !text.isEmpty, text.utf8.count <= 19,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let n = UInt64(text), n <= UInt64(Int64.max) else { return nil }
        return n
    }

    /// A quota root's name: printable, bounded.
    static func name(_ value: Any?) -> String? {
        guard let s = value as? String, !s.isEmpty, s.utf8.count <= maxNameBytes,
              !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return nil }
        return s
    }

    /// A resource name as IMAP spells them (STORAGE, MESSAGE, …): letters, digits, - and _.
    static func resourceName(_ value: Any?) -> String? {
        guard let s = value as? String, !s.isEmpty, s.utf8.count <= 64,
              s.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F })
        else { return nil }
        return s.uppercased()
    }
}
