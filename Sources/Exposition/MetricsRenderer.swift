import Foundation
public import MailGaugeCore

/// What the metrics are rendered from: the stored state, never a live probe, so a scrape
/// is cheap and every account (not only those of the latest run) is exported.
public struct ExpositionInput: Sendable {
    public enum FolderExport: Sendable, Hashable {
        case none
        case top(Int)
        case all
    }

    public var states: [AccountState]
    public var failureCounts: [String: [String: Int]]
    public var lastRun: RunInfo?
    public var folders: FolderExport
    public var version: String
    /// Extra gauges (serve's config reload state), already named.
    public var extraGauges: [(name: String, help: String, value: Double)]
    /// Failed notification deliveries per channel kind (email, owner_email, webhook).
    public var notificationFailures: [String: Int] = [:]
    /// Notices waiting in the outbox.
    public var notificationsPending: Int = 0
    /// Each account's usage thresholds in force (warning, critical; fractions), exported so
    /// the Prometheus rules judge with the config's own thresholds.
    public var thresholds: [String: (warning: Double, critical: Double)] = [:]
    /// Each server endpoint's health after the latest pass that reached it.
    public var servers: [ServerHealth] = []
    /// This agent's shard ("2/4"): a `shard` label on every series, so a fleet's agents
    /// never collide in Prometheus.
    public var shard: String?

    public init(states: [AccountState], failureCounts: [String: [String: Int]], lastRun: RunInfo?, folders: FolderExport,
                version: String, extraGauges: [(name: String, help: String, value: Double)] = []) {
        self.states = states
        self.failureCounts = failureCounts
        self.lastRun = lastRun
        self.folders = folders
        self.version = version
        self.extraGauges = extraGauges
    }

    /// From what the store holds (`AppDatabase.storedState()`).
    public init(_ stored: StoredState, folders: FolderExport, version: String) {
        self.init(states: stored.states, failureCounts: stored.failureCounts, lastRun: stored.lastRun, folders: folders,
                  version: version)
        notificationFailures = stored.notificationFailures
        notificationsPending = stored.notificationsPending
        servers = stored.servers
    }
}

/// Renders the metrics of the design note (prefix `mailgauge_`, base units). An account
/// whose latest probe failed exports `mailgauge_up 0`, its failure counters and its last
/// success time, and no usage: a stale figure must not look current.
public enum MetricsRenderer {
    public static func render(_ input: ExpositionInput) -> String {
        // About 90 bytes a sample; reserved up front so the buffer is not copied as it grows.
        let folderCount = input.folders == .none ? 0 : input.states.reduce(0) { $0 + $1.folders.count }
        let shardLabel = input.shard.map { [("shard", $0)] } ?? []
        var m = MetricsText(capacity: 4096 + 90 * (2 * folderCount + 12 * input.states.count), constantLabels: shardLabel)
        let states = input.states.sorted { $0.id < $1.id }
        let current = states.filter(\.lastProbeOK)

        // A figure that cannot be represented is left out, not wrapped (see `Quantity`).
        func quota(_ resource: String, usage: Bool) -> (inout MetricsText.Family) -> Void {
            { f in
                for s in current {
                    for q in s.quota.filter({ $0.resource == resource }).sorted(by: { $0.root < $1.root }) {
                        if let value = Quantity.baseUnits(usage ? q.usage : q.limit, resource: resource) {
                            f.add(("account", s.id), ("quota_root", q.root), Double(value))
                        }
                    }
                }
            }
        }
        m.family("mailgauge_storage_used_bytes", .gauge, help: "Storage used, from the server's QUOTA STORAGE (KiB × 1024).",
                 quota(QuotaResourceName.storage, usage: true))
        m.family("mailgauge_storage_limit_bytes", .gauge, help: "Storage limit, from the server's QUOTA STORAGE (KiB × 1024).",
                 quota(QuotaResourceName.storage, usage: false))
        m.family("mailgauge_storage_full_forecast_timestamp_seconds", .gauge,
                 help: "When storage is forecast to reach its limit (absent when not growing or too little history).") { f in
            for s in current {
                for forecast in s.forecasts where forecast.resource == QuotaResourceName.storage {
                    if let full = forecast.fullAt {
                        f.add(("account", s.id), ("quota_root", forecast.root), full.timeIntervalSince1970.rounded())
                    }
                }
            }
        }
        m.family("mailgauge_warning_ratio", .gauge, help: "The account's warning threshold (share of a limit), from the config.") { f in
            for s in states { if let t = input.thresholds[s.id] { f.add(("account", s.id), t.warning) } }
        }
        m.family("mailgauge_critical_ratio", .gauge, help: "The account's critical threshold (share of a limit), from the config.") { f in
            for s in states { if let t = input.thresholds[s.id] { f.add(("account", s.id), t.critical) } }
        }
        m.family("mailgauge_messages", .gauge, help: "Messages counted against the quota (QUOTA MESSAGE).", quota(QuotaResourceName.message, usage: true))
        m.family("mailgauge_messages_limit", .gauge, help: "Message limit (QUOTA MESSAGE).", quota(QuotaResourceName.message, usage: false))
        func others(usage: Bool) -> (inout MetricsText.Family) -> Void {
            { f in
                for s in current {
                    for q in s.quota where q.resource != QuotaResourceName.storage && q.resource != QuotaResourceName.message {
                        f.add(("account", s.id), ("quota_root", q.root), ("resource", q.resource), Double(usage ? q.usage : q.limit))
                    }
                }
            }
        }
        m.family("mailgauge_quota_resource_usage", .gauge, help: "Usage of other quota resources, in the server's unit.", others(usage: true))
        m.family("mailgauge_quota_resource_limit", .gauge, help: "Limit of other quota resources, in the server's unit.", others(usage: false))

        // Each account's exported folders, by name; the special-use text joined once.
        let folders: [(account: String, folders: [(FolderPoint, specialUse: String)])] = input.folders == .none ? [] : current.map { s in
            let chosen: [FolderPoint]
            switch input.folders {
            case .none: chosen = []
            case .top(let n): chosen = Array(s.folders.sorted { SizeOrder.largerFirst(($0.sizeBytes, $0.name), ($1.sizeBytes, $1.name)) }.prefix(n))
            case .all: chosen = s.folders
            }
            return (s.id, chosen.sorted { $0.name < $1.name }.map { ($0, $0.specialUse.joined(separator: " ")) })
        }
        // Sendable, for the family written on another thread.
        // A folder whose figure is unknown (nil) has no sample.
        let folderFamily: @Sendable (@escaping @Sendable (FolderPoint) -> Double?) -> (inout MetricsText.Family) -> Void = { value in
            { f in
                for account in folders {
                    for (folder, special) in account.folders {
                        guard let v = value(folder) else { continue }
                        f.add(("account", account.account), ("mailbox", folder.name), ("special_use", special), v)
                    }
                }
            }
        }
        // The two folder families are most of the exposition at 10,000 accounts: the second
        // is written on another core meanwhile, into its own buffer, appended in order.
        let messages = RenderedElsewhere(MetricsText(capacity: 90 * folderCount, constantLabels: shardLabel))
        messages.start { text in
            text.family("mailgauge_mailbox_messages", .gauge, help: "Messages in a mailbox (folder).", folderFamily { Double($0.messages) })
        }
        m.family("mailgauge_mailbox_size_bytes", .gauge, help: "Size of a mailbox (folder), sum of its messages' RFC822.SIZE.",
                 folderFamily { $0.sizeBytes?.doubleValue })
        m.append(messages.wait())

        renderServers(input.servers, into: &m)

        m.family("mailgauge_up", .gauge, help: "1 when the account's latest probe succeeded, 0 when it failed.") { f in
            for s in states { f.add(("account", s.id), s.lastProbeOK ? 1 : 0) }
        }
        m.family("mailgauge_probe_duration_seconds", .gauge, help: "Duration of the account's latest probe, retries included.") { f in
            for s in states { f.add(("account", s.id), s.lastProbeDuration) }
        }
        m.family("mailgauge_last_success_timestamp_seconds", .gauge, help: "Unix time of the account's latest successful probe.") { f in
            for s in states { if let at = s.lastSuccess { f.add(("account", s.id), at.timeIntervalSince1970.rounded()) } }
        }
        m.family("mailgauge_next_probe_timestamp_seconds", .gauge,
                 help: "Unix time the adaptive schedule probes the account next (schedule.policy adaptive).") { f in
            for s in states { if let at = s.nextProbeAt { f.add(("account", s.id), at.timeIntervalSince1970.rounded()) } }
        }
        m.family("mailgauge_probe_failures_total", .counter, help: "Failed probes of the account, by reason.") { f in
            for account in input.failureCounts.keys.sorted() {
                for (reason, count) in input.failureCounts[account, default: [:]].sorted(by: { $0.key < $1.key }) {
                    f.add(("account", account), ("reason", reason), Double(count))
                }
            }
        }
        if let run = input.lastRun {
            m.family("mailgauge_run_duration_seconds", .gauge, help: "Duration of the latest run.",
                     [([], run.finishedAt.timeIntervalSince(run.startedAt))])
            m.family("mailgauge_run_timestamp_seconds", .gauge, help: "Unix time the latest run finished.",
                     [([], run.finishedAt.timeIntervalSince1970.rounded())])
            m.family("mailgauge_run_accounts", .gauge, help: "Accounts probed in the latest run.", [([], Double(run.accounts))])
            m.family("mailgauge_run_failures", .gauge, help: "Accounts that failed in the latest run.", [([], Double(run.failures))])
        }
        // Every channel kind from the start, so rate() and increase() see the first failure.
        let channels = Set(["email", "owner_email", "webhook"]).union(input.notificationFailures.keys).sorted()
        m.family("mailgauge_notifications_failed_total", .counter,
                 help: "Notification deliveries that failed (retried on the next run), by channel.",
                 channels.map { ([("channel", $0)], Double(input.notificationFailures[$0] ?? 0)) })
        m.family("mailgauge_notifications_pending", .gauge, help: "Notices waiting in the outbox for a later delivery.",
                 [([], Double(input.notificationsPending))])
        for g in input.extraGauges { m.family(g.name, .gauge, help: g.help, [([], g.value)]) }
        m.family("mailgauge_build_info", .gauge, help: "mailgauge's version.", [([("version", input.version)], 1)])
        return m.text
    }

    /// Server health: one series set per server endpoint.
    static func renderServers(_ servers: [ServerHealth], into m: inout MetricsText) {
        func labels(_ h: ServerHealth) -> [(String, String)] { [("server", h.server), ("endpoint", h.endpoint)] }
        m.family("mailgauge_server_certificate_expiry_timestamp_seconds", .gauge,
                 help: "When the first certificate of the server's chain expires (leaf, or a trusted issuer from ca_file).") { f in
            for h in servers { if let tls = h.tls { f.add(labels(h), tls.certificate.chainNotAfter.timeIntervalSince1970.rounded()) } }
        }
        m.family("mailgauge_server_tls_info", .gauge, help: "The TLS version and cipher the server negotiated (always 1).") { f in
            for h in servers {
                if let tls = h.tls { f.add(labels(h) + [("version", tls.version), ("cipher", tls.cipher ?? "")], 1) }
            }
        }
        m.family("mailgauge_server_certificate_info", .gauge, help: "The server certificate's subject, issuer and names (always 1).") { f in
            for h in servers {
                if let c = h.tls?.certificate {
                    f.add(labels(h) + [("subject", c.subject), ("issuer", c.issuer), ("names", c.subjectAlternativeNames.joined(separator: " "))], 1)
                }
            }
        }
        m.family("mailgauge_server_certificate_verified", .gauge,
                 help: "1 when every TLS connection of the latest pass verified the server's certificate, else 0.") { f in
            for h in servers where h.tls != nil || h.tlsFailures > 0 { f.add(labels(h), h.verified ? 1 : 0) }
        }
        m.family("mailgauge_server_login_duration_seconds", .summary,
                 help: "Connect, TLS, greeting and login of the latest pass's probes, by quantile.") { f in
            for h in servers where h.logins > 0 {
                for q in ServerHealth.quantiles {
                    if let v = h.loginQuantiles[q] { f.add(labels(h) + [("quantile", q == 1 ? "1" : "\(q)")], v) }
                }
                f.add(labels(h), h.loginSecondsSum, suffix: "_sum")
                f.add(labels(h), Double(h.logins), suffix: "_count")
            }
        }
        m.family("mailgauge_server_capabilities_changed_timestamp_seconds", .gauge,
                 help: "When the server's pre-login capabilities last differed from the pass before.") { f in
            for h in servers { if let at = h.capabilitiesChangedAt { f.add(labels(h), at.timeIntervalSince1970.rounded()) } }
        }
        m.family("mailgauge_server_last_check_timestamp_seconds", .gauge, help: "When a pass last connected to the server.") { f in
            for h in servers { f.add(labels(h), h.checkedAt.timeIntervalSince1970.rounded()) }
        }
    }
}

/// A `MetricsText` written on another thread: `start` hands it over, `wait` takes it back.
private final class RenderedElsewhere: @unchecked Sendable {
    private var text: MetricsText
    private let group = DispatchGroup()

    init(_ text: MetricsText) {
        self.text = text
    }

    func start(_ write: @escaping @Sendable (inout MetricsText) -> Void) {
        DispatchQueue.global(qos: .userInitiated).async(group: group) { [self] in write(&text) }
    }

    func wait() -> MetricsText {
        group.wait()
        return text
    }
}
