public import Foundation
public import MailGaugeCore

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
        /// Set when doveadm answered the command with an error (its exit code), rather than
        /// with something malformed: `allUsers` may be refused where per-user commands work
        /// (a user database that cannot be listed).
        public let doveadmExitCode: Int?
        init(_ description: String, doveadmExitCode: Int? = nil) {
            self.description = description
            self.doveadmExitCode = doveadmExitCode
        }
    }

    /// The request for every user at once (`doveadm quota get -A`): one userdb iteration,
    /// a third of the server's CPU per user of per-user commands (`scripts/bench/benchmark
    /// doveadm`), and an answer read as it streams (`AllUsersReader`).
    public static let allUsersTag = "all"
    public static func allUsersRequestBody() -> Data {
        Data(#"[["quotaGet",{"allUsers":true},"\#(allUsersTag)"]]"#.utf8)
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

    /// One row of `quotaGet`'s answer, checked: a root, a resource, its usage and limit
    /// (nil: "-", no limit of this kind).
    struct Row: Sendable, Equatable {
        var root: String
        var resource: String
        var usage: UInt64
        var limit: UInt64?

        init?(_ value: Any) {
            guard let fields = value as? [String: Any], let root = DoveadmQuota.name(fields["root"]),
                  let resource = DoveadmQuota.resourceName(fields["type"]), let usage = DoveadmQuota.figure(fields["value"]) else { return nil }
            let limitText = fields["limit"] as? String
            let limit = limitText == "-" ? nil : DoveadmQuota.figure(fields["limit"])
            guard limitText == "-" || limit != nil else { return nil }
            (self.root, self.resource, self.usage, self.limit) = (root, resource, usage, limit)
        }
    }

    static func reading(_ rows: [Any]) -> BulkQuota.Reading? {
        guard rows.count <= maxResourcesPerUser else { return nil }
        var checked: [Row] = []
        for value in rows {
            guard let row = Row(value) else { return nil }
            checked.append(row)
        }
        return reading(checked)
    }

    /// One user's rows as IMAP's GETQUOTAROOT would give them: roots in the order seen,
    /// and only the resources that have a limit (Dovecot's IMAP leaves the others out).
    /// Nil when a resource comes twice in a root.
    static func reading(_ rows: [Row]) -> BulkQuota.Reading? {
        guard rows.count <= maxResourcesPerUser else { return nil }
        var roots: [QuotaRootUsage] = []
        for row in rows {
            let index = roots.firstIndex { $0.name == row.root } ?? {
                roots.append(QuotaRootUsage(name: row.root, resources: []))
                return roots.count - 1
            }()
            guard let limit = row.limit else { continue }  // no limit of this kind: the root stays, without it
            guard !roots[index].resources.contains(where: { $0.resource == row.resource }) else { return nil }
            roots[index].resources.append(ResourceUsage(resource: row.resource, usage: row.usage, limit: limit))
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

    /// Reads `quotaGet` with `allUsers` as its bytes arrive, keeping only the listed users'
    /// rows: the answer lists every user of the server (≈ 210 bytes each, 21 MB at 100,000)
    /// and is never held whole. Its shape is fixed:
    /// `[["doveadmResponse",[{"username","root","type","value","limit","percent"},…],TAG]]`
    /// or `[["error",{"type","exitCode"},TAG]]`. Each row object is taken apart on its own
    /// (flat, at most `maxRowBytes`); everything outside the rows — the skeleton, at most
    /// `maxSkeletonBytes` — is parsed at the end and must be exactly one entry with our
    /// tag. Nesting deeper than a row, a byte out of place between rows, or anything after
    /// the end refuses the answer whole.
    public struct AllUsersReader {
        static let maxRowBytes = 4096
        static let maxSkeletonBytes = 64 * 1024
        static let maxDepth = 4

        private let users: Set<String>
        private var stack: [UInt8] = []
        private var inString = false
        private var escaped = false
        private var row: [UInt8] = []
        private var capturing = false
        /// In the rows array: whether a row (true) or a comma/close (false) comes next;
        /// `afterComma` forbids a close straight after a comma.
        private var expectRow = true
        private var afterComma = false
        private var skeleton: [UInt8] = []
        private var ended = false
        private var rows: [String: [Row]] = [:]
        private var spoiled: Set<String> = []
        /// Rows read, every user's (how many users the server has, roughly twice over).
        public private(set) var rowCount = 0

        public init(users: Set<String>) {
            self.users = users
        }

        public mutating func consume(_ bytes: some Sequence<UInt8>) throws(ResponseError) {
            for byte in bytes { try consume(byte) }
        }

        /// Follows JSON strings, whose brackets and commas are text: true when `byte` opens,
        /// is inside or closes one.
        private mutating func textByte(_ byte: UInt8) -> Bool {
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                return true
            }
            if byte == 0x22 { inString = true }
            return inString
        }

        private var inRowsArray: Bool { stack.count == 3 && stack[0] == 0x5B && stack[1] == 0x5B && stack[2] == 0x5B }

        private mutating func consume(_ byte: UInt8) throws(ResponseError) {
            if ended {
                guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { throw ResponseError("bytes after the answer's end") }
                return
            }
            if capturing {
                guard row.count < Self.maxRowBytes else { throw ResponseError("a row longer than \(Self.maxRowBytes) bytes") }
                row.append(byte)
                if textByte(byte) { return }
                switch byte {
                case 0x7B, 0x5B: throw ResponseError("a row that is not flat")
                case 0x7D:
                    capturing = false
                    stack.removeLast()
                    try take(row)
                    row.removeAll(keepingCapacity: true)
                    expectRow = false
                default: break
                }
                return
            }
            if inRowsArray && !inString {
                switch byte {
                case 0x20, 0x0A, 0x0D, 0x09: return
                case 0x7B where expectRow:
                    capturing = true
                    afterComma = false
                    stack.append(byte)
                    row.append(byte)
                    return
                case 0x2C where !expectRow:
                    expectRow = true
                    afterComma = true
                    return
                case 0x5D where !afterComma:
                    break  // the rows array closes: into the skeleton below
                default:
                    throw ResponseError("a byte out of place between rows")
                }
            }
            guard skeleton.count < Self.maxSkeletonBytes else { throw ResponseError("more than \(Self.maxSkeletonBytes) bytes outside the rows") }
            skeleton.append(byte)
            if textByte(byte) { return }
            switch byte {
            case 0x5B, 0x7B:
                guard stack.count < Self.maxDepth else { throw ResponseError("nested deeper than the answer's shape") }
                stack.append(byte)
                if inRowsArray { expectRow = true; afterComma = false }
            case 0x5D, 0x7D:
                guard let open = stack.popLast(), open == (byte == 0x5D ? 0x5B : 0x7B) else { throw ResponseError("unbalanced brackets") }
                if stack.isEmpty { ended = true }
            default: break
            }
        }

        /// Rows one answer may carry: two per user of a 5-million-user server.
        static let maxRows = 10_000_000

        private mutating func take(_ bytes: [UInt8]) throws(ResponseError) {
            rowCount += 1
            guard rowCount <= Self.maxRows else { throw ResponseError("more than \(Self.maxRows) rows") }
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw ResponseError("a row that is not a JSON object")
            }
            guard let user = object["username"] as? String else { throw ResponseError("a row without a username") }
            guard users.contains(user), !spoiled.contains(user) else { return }
            guard let parsed = Row(object), rows[user, default: []].count < maxResourcesPerUser else {
                spoiled.insert(user)
                rows[user] = nil
                return
            }
            rows[user, default: []].append(parsed)
        }

        /// Each listed user's reading. A listed user the server did not list is refused
        /// (not in its user database, or without quota); one whose rows were unusable has none.
        public func finish() throws(ResponseError) -> [String: BulkQuota.Reading] {
            guard ended, !capturing else { throw ResponseError("the answer ended early") }
            guard let entries = (try? JSONSerialization.jsonObject(with: Data(skeleton))) as? [Any], entries.count == 1,
                  let entry = entries[0] as? [Any], entry.count == 3, let kind = entry[0] as? String,
                  entry[2] as? String == DoveadmQuota.allUsersTag else {
                throw ResponseError("the answer is not one [kind, payload, tag] with the tag sent")
            }
            switch kind {
            case "doveadmResponse":
                guard let payload = entry[1] as? [Any], payload.isEmpty else { throw ResponseError("the rows are not a list") }
            case "error":
                let code = ((entry[1] as? [String: Any])?["exitCode"] as? NSNumber)?.intValue
                throw ResponseError("allUsers refused, exit code \(code.map(String.init) ?? "unknown")", doveadmExitCode: code ?? -1)
            default:
                throw ResponseError("an answer of unknown kind")
            }
            var readings: [String: BulkQuota.Reading] = [:]
            readings.reserveCapacity(users.count)
            for user in users where !spoiled.contains(user) {
                if let rows = rows[user] {
                    if let reading = DoveadmQuota.reading(rows) { readings[user] = reading }
                } else {
                    readings[user] = .refused("doveadm: not in allUsers' answer (no such user, or no quota)")
                }
            }
            return readings
        }
    }
}
