import AsyncHTTPClient
import ClientNetworking
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Webhook channels: a generic JSON POST, or Alertmanager's API v2.
public enum Webhook {
    public enum Format: String, Sendable { case json, alertmanager }

    /// The generic body: `{"source": "mailgauge", "notices": [...]}`, each notice with
    /// snake_case keys and ISO 8601 dates.
    public static func jsonBody(_ notices: [Notice], now: Date) throws -> Data {
        struct Body: Encodable {
            var source = "mailgauge"
            var version = 1
            var sentAt: Date
            var notices: [Notice]
            enum CodingKeys: String, CodingKey { case source, version, sentAt = "sent_at", notices }
        }
        return try Notice.jsonEncoder.encode(Body(sentAt: now, notices: notices))
    }

    /// Alertmanager `POST /api/v2/alerts` body. Alertmanager wants firing alerts sent again
    /// on every evaluation, or it resolves them itself after `endsAt`: `firing` is every
    /// alert firing now (endsAt = now + `validFor`), `resolved` those that ended this run
    /// (endsAt = now).
    public static func alertmanagerBody(firing: [Notice], resolved: [Notice], now: Date, validForSeconds: Double) throws -> Data {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        func alert(_ n: Notice, endsAt: Date) -> [String: Any] {
            let texts = NoticeTexts.Plain.summary(n)
            return [
                "labels": ["alertname": alertName(n.rule), "account": n.accountID, "user": n.user, "resource": n.resource,
                           "severity": n.severity, "rule": n.rule.rawValue, "source": "mailgauge"],
                "annotations": ["summary": texts.summary, "description": texts.description],
                "startsAt": iso.string(from: n.at), "endsAt": iso.string(from: endsAt),
            ]
        }
        let alerts = firing.map { alert($0, endsAt: now.addingTimeInterval(validForSeconds)) } + resolved.map { alert($0, endsAt: now) }
        return try JSONSerialization.data(withJSONObject: alerts, options: [.sortedKeys])
    }

    /// The same names as the shipped Prometheus rules, so silences and routes written for
    /// one work for the other; `source="mailgauge"` tells them apart.
    static func alertName(_ rule: NoticeRule) -> String {
        switch rule {
        case .full: "MailboxFull"
        case .critical: "MailboxStorageCritical"
        case .warning: "MailboxStorageHigh"
        case .filling: "MailboxFullForecast"
        case .probeFailing: "MailgaugeProbeFailing"
        case .test: "MailgaugeTest"
        }
    }

    /// POSTs `body`; any 2xx is success. Errors name the host, never the full URL (webhook
    /// URLs often carry a token in their path or query).
    public static func post(url: String, body: Data, timeoutSeconds: Double) async throws(NotifyError) {
        let display = redacted(url)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "mailgauge")
        request.body = .bytes(ByteBuffer(data: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
            let text = try await response.body.collect(upTo: 64 * 1024)
            guard (200..<300).contains(response.status.code) else {
                let snippet = String(buffer: text).prefix(200).replacingOccurrences(of: "\n", with: " ")
                throw NotifyError("webhook \(display): HTTP \(response.status.code)\(snippet.isEmpty ? "" : ": \(snippet)")")
            }
        } catch let error as NotifyError {
            throw error
        } catch {
            throw NotifyError("webhook \(display): \(describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            if e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout { return "timed out" }
            return "\(e)"
        }
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }

    /// scheme://host[:port] only.
    public static func redacted(_ url: String) -> String { URLOrigin.display(url) }
}
