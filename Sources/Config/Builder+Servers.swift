import Foundation
import Yams

extension Builder {
    func buildServer(name: String, _ node: Node) -> ServerConfig? {
        let p = "servers.\(name)"
        let m = reader.mapping(node, p, allowed: Self.serverKeys)
        guard let hostNode = m["host"] else {
            reader.error(node, "\(p).host", "missing (the IMAP server's host name)")
            return nil
        }
        let tls = m["tls"].flatMap { reader.oneOf($0.value, "\(p).tls", TLSMode.allCases.map(\.rawValue)) }.flatMap(TLSMode.init) ?? .implicit
        return ServerConfig(
            name: name,
            host: reader.string(hostNode.value, "\(p).host") ?? "",
            port: m["port"].flatMap { reader.int($0.value, "\(p).port", range: 1...65535) } ?? (tls == .implicit ? 993 : 143),
            tls: tls,
            caFile: trustedFile(m["ca_file"], "\(p).ca_file", what: "the CA bundle"),
            timeoutSeconds: m["timeout"].flatMap { reader.duration($0.value, "\(p).timeout", range: 1...3600) ?? nil } ?? 30,
            maxConnections: m["max_connections"].flatMap { reader.int($0.value, "\(p).max_connections", range: 1...1024) } ?? 8,
            maxFolders: m["max_folders"].flatMap { reader.int($0.value, "\(p).max_folders", range: 1...1_000_000) } ?? 10_000,
            maxResponsesPerCommand: m["max_responses_per_command"].flatMap {
                reader.int($0.value, "\(p).max_responses_per_command", range: 100...100_000_000)
            } ?? 2_000_000,
            auth: m["auth"].flatMap { reader.choice($0.value, "\(p).auth", AuthMethod.self) } ?? .auto,
            method: m["method"].flatMap { reader.choice($0.value, "\(p).method", FolderMethodChoice.self) } ?? .auto,
            thresholds: thresholds(m, p), ownerEmail: ownerTemplate(m["owner_email"], "\(p).owner_email"))
    }

    func thresholds(_ m: [String: (key: Node, value: Node)], _ p: String) -> ThresholdOverrides {
        ThresholdOverrides(
            warning: m["warning"].flatMap { reader.percent($0.value, "\(p).warning") },
            critical: m["critical"].flatMap { reader.percent($0.value, "\(p).critical") },
            forecastHorizonSeconds: m["forecast_horizon"].flatMap { reader.duration($0.value, "\(p).forecast_horizon", range: 60...366 * 86400) ?? nil },
            minFreeBytes: m["min_free"].flatMap { reader.size($0.value, "\(p).min_free") })
    }

    func buildDefaults(_ node: Node?, servers: [String: ServerConfig]) -> Defaults {
        let m = node.map { reader.mapping($0, "defaults", allowed: Self.defaultsKeys) } ?? [:]
        var server = m["server"].flatMap { reader.string($0.value, "defaults.server") }
        if let s = server, servers[s] == nil, let n = m["server"] {
            let hint = Suggestion.nearest(to: s, in: Array(servers.keys)).map { " (did you mean '\($0)'?)" } ?? ""
            reader.error(n.value, "defaults.server", "no server named '\(s)' under servers\(hint)")
            server = nil
        }
        if server == nil, servers.count == 1 { server = servers.keys.first }
        let t = thresholds(m, "defaults")
        let warning = t.warning ?? 0.80, critical = t.critical ?? 0.95
        if warning > critical, let n = m["warning"] {
            reader.error(n.value, "defaults.warning", "warning (\(Int(warning * 100))%) must not be above critical (\(Int(critical * 100))%)")
        }
        return Defaults(server: server, warning: warning, critical: critical,
                        forecastHorizonSeconds: t.forecastHorizonSeconds ?? 7 * 86400, minFreeBytes: t.minFreeBytes,
                        locale: m["locale"].flatMap { reader.oneOf($0.value, "defaults.locale", ["en", "zh-CN"]) } ?? "en",
                        notifyOwner: m["notify_owner"].flatMap { reader.bool($0.value, "defaults.notify_owner") } ?? false,
                        ownerEmail: ownerTemplate(m["owner_email"], "defaults.owner_email"))
    }
}
