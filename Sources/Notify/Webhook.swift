import AsyncHTTPClient
import ClientNetworking
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL

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

    /// POSTs `body` to the route; any 2xx is success. Errors name the host, never the full
    /// URL (webhook URLs often carry a token in their path or query). https:// only unless
    /// the route opted into plaintext; no redirect is followed (a 3xx is a failure: the
    /// notices, and the token, would go where a server says, https→http included).
    public static func post(_ route: NotificationPlan.WebhookRoute, body: Data) async throws(NotifyError) {
        let url = route.url, timeoutSeconds = route.timeoutSeconds
        let display = redacted(url)
        let scheme = URLComponents(string: url)?.scheme?.lowercased()
        guard scheme == "https" || (scheme == "http" && route.allowPlaintext) else {
            throw NotifyError("webhook \(display): refusing to send: the URL is not https (set insecure_plaintext: true for http)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "mailgauge")
        request.body = .bytes(ByteBuffer(data: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
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

    /// One client for every webhook of the process (AsyncHTTPClient's own `shared` follows
    /// redirects): no redirects, no proxy from the environment, the project's TLS policy
    /// (TLS 1.2 minimum, full verification).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled)
        configuration.tlsConfiguration = ClientTLS.defaultConfiguration
        configuration.proxy = nil
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

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
