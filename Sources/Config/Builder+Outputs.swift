import Foundation
import Yams

extension Builder {
    func buildFolders(_ node: Node?) -> FolderExport {
        let m = node.map { reader.mapping($0, "folders", allowed: ["export", "top_n"]) } ?? [:]
        return FolderExport(
            export: m["export"].flatMap { reader.oneOf($0.value, "folders.export", FolderExport.Mode.allCases.map(\.rawValue)) }
                .flatMap(FolderExport.Mode.init) ?? .top,
            topN: m["top_n"].flatMap { reader.int($0.value, "folders.top_n", range: 1...10000) } ?? 10)
    }

    func buildMetrics(_ node: Node?) -> Metrics {
        let m = node.map { reader.mapping($0, "metrics", allowed: ["textfile", "listen"]) } ?? [:]
        return Metrics(textfile: m["textfile"].flatMap { reader.string($0.value, "metrics.textfile") }.map(path),
                       listen: m["listen"].flatMap { reader.string($0.value, "metrics.listen") } ?? "127.0.0.1:9786")
    }

    func buildAlerts(_ node: Node?) -> Alerts {
        let p = "alerts"
        let m = node.map { reader.mapping($0, p, allowed: ["repeat_interval", "hysteresis", "probe_failing_runs", "stdout",
                                                            "stdout_format", "email", "webhook"]) } ?? [:]
        var email: Alerts.Email?
        if let e = m["email"] { email = buildEmail(e.value) }
        var webhooks: [Alerts.Webhook] = []
        if let w = m["webhook"] {
            let nodes: [Node] = if case .sequence = w.value { reader.sequence(w.value, "\(p).webhook") } else { [w.value] }
            for (i, n) in nodes.enumerated() {
                let wp = nodes.count == 1 ? "\(p).webhook" : "\(p).webhook[\(i)]"
                let wm = reader.mapping(n, wp, allowed: ["url", "format", "timeout", "insecure_plaintext"])
                guard let urlNode = wm["url"], let url = reader.string(urlNode.value, "\(wp).url") else {
                    reader.error(n, "\(wp).url", "missing")
                    continue
                }
                let plaintext = wm["insecure_plaintext"].flatMap { reader.bool($0.value, "\(wp).insecure_plaintext") } ?? false
                let scheme = URLComponents(string: url)?.scheme?.lowercased()
                if scheme != "https" && scheme != "http" {
                    reader.error(urlNode.value, "\(wp).url", "expected an https:// URL")
                } else if scheme == "http" && !plaintext {
                    reader.error(urlNode.value, "\(wp).url", "http:// would send the notices (and any token in the URL) unencrypted; use https:// (or set insecure_plaintext: true)")
                }
                webhooks.append(Alerts.Webhook(
                    url: url, format: wm["format"].flatMap { reader.choice($0.value, "\(wp).format", WebhookFormat.self) } ?? .json,
                    timeoutSeconds: wm["timeout"].flatMap { reader.duration($0.value, "\(wp).timeout", range: 1...600) ?? nil } ?? 10,
                    allowPlaintext: plaintext))
            }
        }
        return Alerts(
            repeatIntervalSeconds: m["repeat_interval"].flatMap { reader.duration($0.value, "\(p).repeat_interval", range: 1...366 * 86400) ?? nil } ?? 86400,
            hysteresis: m["hysteresis"].flatMap { reader.percent($0.value, "\(p).hysteresis") } ?? 0.02,
            probeFailingRuns: m["probe_failing_runs"].flatMap { reader.int($0.value, "\(p).probe_failing_runs", range: 1...1000) } ?? 3,
            stdout: m["stdout"].flatMap { reader.bool($0.value, "\(p).stdout") } ?? true,
            stdoutFormat: m["stdout_format"].flatMap { reader.choice($0.value, "\(p).stdout_format", AlertLineFormat.self) } ?? .text,
            email: email, webhooks: webhooks)
    }

    func buildEmail(_ node: Node) -> Alerts.Email? {
        let p = "alerts.email"
        let m = reader.mapping(node, p, allowed: ["smtp", "sendmail", "from", "to", "notify_owner", "templates_dir"])
        var smtp: Alerts.SMTP?
        if let s = m["smtp"] {
            let sp = "\(p).smtp"
            let sm = reader.mapping(s.value, sp, allowed: ["host", "port", "tls", "user", "ca_file", "timeout"] + Self.secretKeys.filter { $0 != "token_file" })
            let tls = sm["tls"].flatMap { reader.oneOf($0.value, "\(sp).tls", TLSMode.allCases.map(\.rawValue)) }.flatMap(TLSMode.init) ?? .starttls
            let user = sm["user"].flatMap { reader.string($0.value, "\(sp).user") }
            smtp = Alerts.SMTP(
                host: sm["host"].flatMap { reader.string($0.value, "\(sp).host") } ?? { reader.error(s.value, "\(sp).host", "missing"); return "" }(),
                port: sm["port"].flatMap { reader.int($0.value, "\(sp).port", range: 1...65535) } ?? (tls == .implicit ? 465 : 587),
                tls: tls, user: user,
                secret: user == nil ? nil : secret(sm, sp, owner: s.value, allowToken: false)?.0,
                caFile: trustedFile(sm["ca_file"], "\(sp).ca_file", what: "the CA bundle"),
                timeoutSeconds: sm["timeout"].flatMap { reader.duration($0.value, "\(sp).timeout", range: 1...600) ?? nil } ?? 30)
        }
        let sendmail = trustedFile(m["sendmail"], "\(p).sendmail", what: "the sendmail program")
        if smtp == nil && sendmail == nil { reader.error(node, p, "give smtp or sendmail") }
        guard let fromEntry = m["from"], let from = reader.string(fromEntry.value, "\(p).from") else {
            reader.error(node, "\(p).from", "missing (the sender address)")
            return nil
        }
        mailAddress(from, fromEntry.value, "\(p).from")
        let to = m["to"].map { entry in reader.stringList(entry.value, "\(p).to").map { mailAddress($0, entry.value, "\(p).to") } } ?? []
        return Alerts.Email(smtp: smtp, sendmail: sendmail, from: from, to: to,
                            notifyOwner: m["notify_owner"].flatMap { reader.bool($0.value, "\(p).notify_owner") } ?? false,
                            templatesDir: templatesDir(m["templates_dir"], "\(p).templates_dir"))
    }

    func buildRetention(_ node: Node?) -> Retention {
        let m = node.map { reader.mapping($0, "retention", allowed: ["raw", "hourly", "daily"]) } ?? [:]
        func d(_ key: String, _ fallback: Double?) -> Double? {
            guard let n = m[key] else { return fallback }
            return reader.duration(n.value, "retention.\(key)", range: 1...100 * 366 * 86400, allowForever: true) ?? fallback
        }
        return Retention(rawSeconds: d("raw", 35 * 86400), hourlySeconds: d("hourly", 400 * 86400), dailySeconds: d("daily", nil))
    }

    func buildSchedule(_ node: Node?) -> Schedule {
        let m = node.map { reader.mapping($0, "schedule", allowed: ["interval", "policy", "max_interval", "reserve"]) } ?? [:]
        var schedule = Schedule(intervalSeconds: m["interval"].flatMap { reader.duration($0.value, "schedule.interval", range: 1...7 * 86400) ?? nil } ?? 900)
        if let n = m["policy"], let policy = reader.choice(n.value, "schedule.policy", SchedulePolicy.self) { schedule.policy = policy }
        if let n = m["max_interval"], let seconds = reader.duration(n.value, "schedule.max_interval", range: 60...30 * 86400) ?? nil {
            if seconds < schedule.intervalSeconds {
                reader.error(n.value, "schedule.max_interval", "must be at least schedule.interval (\(Units.describe(seconds: schedule.intervalSeconds)))")
            } else {
                schedule.maxIntervalSeconds = seconds
            }
        }
        if let n = m["reserve"], let share = reader.percent(n.value, "schedule.reserve") { schedule.reserve = share }
        return schedule
    }

    /// An address (`a@b` or `Name <a@b>`) goes into SMTP commands and mail headers: one
    /// with a control character (a line break would start a command or a header of its
    /// own) or without an `@` is an error here, with its place.
    @discardableResult
    func mailAddress(_ text: String, _ node: Node, _ path: String) -> String {
        if text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            reader.error(node, path, "'\(text.debugDescription.dropFirst().dropLast())' holds a control character (a line break would inject SMTP commands or headers)")
        } else {
            let address = text.hasSuffix(">") ? String(text[(text.lastIndex(of: "<").map { text.index(after: $0) } ?? text.startIndex)...].dropLast()) : text
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty || address.contains(where: { $0 == " " || $0 == "<" || $0 == "," }) {
                reader.error(node, path, "'\(text)' is not an address (user@example.com or Name <user@example.com>)")
            }
        }
        return text
    }
}
