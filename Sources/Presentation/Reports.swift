public import Foundation
public import MailGaugeCore

/// `mailgauge report` and `mailgauge history`: renderings of what the database holds.
public enum Reports {
    public enum Format: String, Sendable, CaseIterable { case table, json, csv }

    // MARK: - report

    /// One line of the report: an account's latest state and its 7-day trend.
    public struct ReportRow: Sendable, Codable, Hashable {
        public var account: String
        public var user: String
        public var server: String
        public var quotaStatus: QuotaStatus?
        public var usedBytes: ByteCount?
        public var limitBytes: ByteCount?
        public var percent: Double?
        /// Growth of STORAGE usage per day over the last 7 days (negative: shrinking).
        public var trendBytesPerDay: Double?
        /// When storage is forecast to be full (nil: not growing, or too little history).
        public var storageFullAt: Date?
        public var lastSuccess: Date?
        public var ok: Bool
        public var failureReason: FailureReason?
        public var failureMessage: String?
        public var consecutiveFailures: Int
        /// Alerts firing now (in JSON as "critical STORAGE", "probe_failing probe": `AlertRules.Key.description`).
        public var alerts: [AlertRules.Key] = []
        /// The latest `[ALERT]` text from the server, as received, and when it came.
        public var serverAlert: String?
        public var serverAlertAt: Date?
        /// When the adaptive schedule probes it next, and why (ProbeSchedule.Reason).
        public var nextProbeAt: Date?
        public var nextProbeReason: ProbeSchedule.Reason?
        /// Why a figure of the latest reading is unknown (a folder whose size cannot be
        /// represented); folder names as received.
        public var unknownFigures: [String] = []

        public init(account: String, user: String, server: String, quotaStatus: QuotaStatus?, usedBytes: ByteCount?,
                    limitBytes: ByteCount?, percent: Double?, trendBytesPerDay: Double?, storageFullAt: Date?, lastSuccess: Date?,
                    ok: Bool, failureReason: FailureReason?, failureMessage: String?, consecutiveFailures: Int,
                    alerts: [AlertRules.Key] = [], serverAlert: String? = nil, serverAlertAt: Date? = nil, nextProbeAt: Date? = nil,
                    nextProbeReason: ProbeSchedule.Reason? = nil, unknownFigures: [String] = []) {
            self.account = account
            self.user = user
            self.server = server
            self.quotaStatus = quotaStatus
            self.usedBytes = usedBytes
            self.limitBytes = limitBytes
            self.percent = percent
            self.trendBytesPerDay = trendBytesPerDay
            self.storageFullAt = storageFullAt
            self.lastSuccess = lastSuccess
            self.ok = ok
            self.failureReason = failureReason
            self.failureMessage = failureMessage
            self.consecutiveFailures = consecutiveFailures
            self.alerts = alerts
            self.serverAlert = serverAlert
            self.serverAlertAt = serverAlertAt
            self.nextProbeAt = nextProbeAt
            self.nextProbeReason = nextProbeReason
            self.unknownFigures = unknownFigures
        }

        enum CodingKeys: String, CodingKey {
            case account, user, server, quotaStatus = "quota_status", usedBytes = "used_bytes", limitBytes = "limit_bytes"
            case percent, trendBytesPerDay = "trend_bytes_per_day", storageFullAt = "storage_full_at"
            case lastSuccess = "last_success", ok
            case failureReason = "failure_reason", failureMessage = "failure_message"
            case consecutiveFailures = "consecutive_failures", alerts
            case serverAlert = "server_alert", serverAlertAt = "server_alert_at"
            case nextProbeAt = "next_probe_at", nextProbeReason = "next_probe_reason"
            case unknownFigures = "unknown_figures"
        }
    }

    public static func renderReport(_ rows: [ReportRow], format: Format, now: Date = Date()) throws -> String {
        switch format {
        case .json:
            return try json(rows)
        case .csv:
            var out = "account,user,server,quota_status,used_bytes,limit_bytes,percent,trend_bytes_per_day,last_success,ok,failure_reason,alerts,next_probe\n"
            for r in rows {
                var fields: [String] = [r.account, r.user, r.server].map(csvText) + [r.quotaStatus?.rawValue ?? ""]
                fields.append(r.usedBytes?.description ?? "")
                fields.append(r.limitBytes?.description ?? "")
                fields.append(r.percent.map { SizeFormat.fixed($0, digits: 2) } ?? "")
                fields.append(r.trendBytesPerDay.map { SizeFormat.fixed($0, digits: 0) } ?? "")
                fields.append(r.lastSuccess.map { iso($0) } ?? "")
                fields.append(r.ok ? "1" : "0")
                fields.append(r.failureReason?.rawValue ?? "")
                fields.append(r.alerts.map(\.description).joined(separator: ";"))
                fields.append(r.nextProbeAt.map { iso($0) } ?? "")
                out += fields.map(csvField).joined(separator: ",") + "\n"
            }
            return out
        case .table:
            var table: [[String]] = [["ACCOUNT", "USED", "LIMIT", "USE", "TREND/DAY", "FULL BY", "LAST SUCCESS", "NEXT PROBE", "STATUS", "ALERTS"]]
            for r in rows {
                let status = r.ok ? (r.quotaStatus ?? .ok).rawValue : "FAILED \(r.failureReason?.rawValue ?? "") (\(r.consecutiveFailures)x)"
                let rules: [String] = r.alerts.map(\.rule.rawValue)
                let alerts: String = rules.isEmpty ? "-" : rules.joined(separator: ",")
                table.append([
                    r.account, storage(r.usedBytes, r), storage(r.limitBytes, r),
                    r.percent.map { SizeFormat.fixed($0, digits: 1) + " %" } ?? "-",
                    r.trendBytesPerDay.map { ($0 >= 0 ? "+" : "-") + (Quantity.wholeCount(abs($0)).map(SizeFormat.bytes) ?? "?") } ?? "-",
                    r.storageFullAt.map(day) ?? "-",
                    r.lastSuccess.map { relative($0, now: now) } ?? "never", nextProbe(r.nextProbeAt, now: now), status,
                    alerts,
                ])
            }
            var out = TextTable.render(table, rightAligned: [1, 2, 3, 4])
            // RFC 3501 §7.1: what the server asked to show a person, escaped.
            let alerted = rows.filter { $0.serverAlert != nil }
            if !alerted.isEmpty {
                out += "\nServer alerts (latest per account):\n"
                for r in alerted {
                    out += "  \(r.account) \(r.serverAlertAt.map { iso($0) } ?? ""): \(DisplayText.line(r.serverAlert ?? ""))\n"
                }
            }
            let unknown = rows.filter { !$0.unknownFigures.isEmpty }
            if !unknown.isEmpty {
                out += "\nUnknown figures (shown as ?):\n"
                for r in unknown { for reason in r.unknownFigures { out += "  \(r.account): \(DisplayText.line(reason))\n" } }
            }
            return out
        }
    }

    /// The mail servers' health under the table: certificate, TLS, login latency.
    public static func renderServers(_ servers: [ServerHealth], now: Date = Date()) -> String {
        guard !servers.isEmpty else { return "" }
        var table: [[String]] = [["SERVER", "ENDPOINT", "CERTIFICATE EXPIRES", "TLS", "LOGIN P50/P90", "CHECKED"]]
        for h in servers {
            var certificate = "-", tls = "-"
            if let session = h.tls {
                let days = session.certificate.chainNotAfter.timeIntervalSince(now) / 86400
                certificate = "\(day(session.certificate.chainNotAfter)) (\(SizeFormat.fixed(days, digits: 0)) d)"
                tls = "\(session.version) \(session.cipher ?? "?")"
            }
            if h.tlsFailures > 0 { certificate = "NOT VERIFIED (\(h.tlsFailures) failures)" }
            let p50 = h.loginQuantiles[0.5].map { SizeFormat.fixed($0, digits: 3) } ?? "-"
            let p90 = h.loginQuantiles[0.9].map { SizeFormat.fixed($0, digits: 3) } ?? "-"
            table.append([h.server, h.endpoint, certificate, tls, "\(p50)/\(p90) s", relative(h.checkedAt, now: now)])
        }
        var out = "\nMail servers:\n" + TextTable.render(table, rightAligned: [])
        for h in servers where h.capabilitiesChangedAt != nil {
            out += "  \(h.server) \(h.endpoint): capabilities changed \(iso(h.capabilitiesChangedAt!))\n"
        }
        return out
    }

    // MARK: - history

    public static func renderHistory(_ points: [QuotaPoint], format: Format) throws -> String {
        switch format {
        case .json:
            struct Item: Encodable {
                var at: String, root: String, resource: String, usage: UInt64, limit: UInt64, resolution: QuotaPoint.Resolution
            }
            return try json(points.map { Item(at: iso($0.at), root: $0.root, resource: $0.resource, usage: $0.usage,
                                              limit: $0.limit, resolution: $0.resolution) })
        case .csv:
            return "at,root,resource,usage,limit,resolution\n" + points.map {
                [iso($0.at), csvText($0.root), csvText($0.resource), String($0.usage), String($0.limit), $0.resolution.rawValue].map(csvField).joined(separator: ",")
            }.joined(separator: "\n") + (points.isEmpty ? "" : "\n")
        case .table:
            var table: [[String]] = [["TIME", "ROOT", "RESOURCE", "USED", "LIMIT", "USE", "RESOLUTION"]]
            for p in points {
                table.append([iso(p.at), p.root, p.resource, SizeFormat.quota(p.usage, resource: p.resource),
                              SizeFormat.quota(p.limit, resource: p.resource),
                              p.limit > 0 ? SizeFormat.percent(Double(p.usage) / Double(p.limit)) : "-", p.resolution.rawValue])
            }
            return TextTable.render(table, rightAligned: [3, 4, 5])
        }
    }

    public static func renderFolderHistory(_ points: [FolderPoint], format: Format) throws -> String {
        switch format {
        case .json:
            struct Item: Encodable {
                var at: String, name: String, special_use: [String], messages: UInt64, size_bytes: ByteCount?
                enum CodingKeys: CodingKey { case at, name, special_use, messages, size_bytes }
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(at, forKey: .at)
                    try c.encode(name, forKey: .name)
                    try c.encode(special_use, forKey: .special_use)
                    try c.encode(messages, forKey: .messages)
                    try c.encode(size_bytes, forKey: .size_bytes)  // null when unknown
                }
            }
            return try json(points.map { Item(at: iso($0.at), name: $0.name, special_use: $0.specialUse, messages: $0.messages,
                                              size_bytes: $0.sizeBytes) })
        case .csv:
            return "at,folder,special_use,messages,size_bytes\n" + points.map {
                [iso($0.at), csvText($0.name), csvText($0.specialUse.joined(separator: " ")), String($0.messages), $0.sizeBytes?.description ?? ""]
                    .map(csvField).joined(separator: ",")
            }.joined(separator: "\n") + (points.isEmpty ? "" : "\n")
        case .table:
            var table: [[String]] = [["TIME", "FOLDER", "SPECIAL", "MESSAGES", "SIZE"]]
            for p in points {
                table.append([iso(p.at), DisplayText.line(p.name), p.specialUse.joined(separator: " "), "\(p.messages)", SizeFormat.size(p.sizeBytes)])
            }
            return TextTable.render(table, rightAligned: [3, 4])
        }
    }

    // MARK: - helpers

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    /// A storage figure of the table: "-" when there is none, "?" when the server's figure
    /// could not be represented in bytes (see `Quantity`).
    static func storage(_ bytes: ByteCount?, _ row: ReportRow) -> String {
        bytes.map { SizeFormat.size($0) } ?? (row.percent != nil ? "?" : "-")
    }

    /// "2026-12-02": the day of `iso`.
    public static func day(_ date: Date) -> String { String(iso(date).prefix(10)) }

    public static func iso(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    static func relative(_ date: Date, now: Date) -> String {
        let s = Int(now.timeIntervalSince(date))
        if s < 120 { return "\(max(0, s))s ago" }
        if s < 7200 { return "\(s / 60)m ago" }
        if s < 172_800 { return "\(s / 3600)h ago" }
        return "\(s / 86400)d ago"
    }

    /// "next pass" when due now, else "in 3h".
    static func nextProbe(_ date: Date?, now: Date) -> String {
        guard let date else { return "next pass" }
        let s = Int(date.timeIntervalSince(now))
        if s < 60 { return "next pass" }
        if s < 7200 { return "in \(s / 60)m" }
        if s < 172_800 { return "in \(s / 3600)h" }
        return "in \(s / 86400)d"
    }

    /// RFC 4180: a field holding a comma, a quote, CR or LF is quoted. Checked on bytes:
    /// "\r\n" is one Character, equal to neither "\r" nor "\n".
    static func csvField(_ s: String) -> String {
        let special = s.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
        guard special else { return s }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for b in s.utf8 { out.append(b); if b == UInt8(ascii: "\"") { out.append(b) } }  // a quote followed by a combining mark is one Character
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// A text field someone else controls (a folder name, a login, a quota root): one that
    /// starts like a formula (=, +, -, @, tab, CR) gets a leading ' so a spreadsheet shows it
    /// as text instead of running it (OWASP's CSV injection advice). Numbers never pass here.
    static func csvText(_ s: String) -> String {
        guard let first = s.utf8.first, "=+-@\t\r".utf8.contains(first) else { return s }
        return "'" + s
    }
}

/// Plain text tables (shared by report and history).
enum TextTable {
    static func render(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        SnapshotRendering.renderTable(rows, rightAligned: rightAligned)
    }
}
