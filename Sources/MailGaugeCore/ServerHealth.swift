public import Foundation

/// What one connection learned about its server on the way to a login: the TLS session,
/// the certificate, how long connect + TLS + greeting + login took, and what the server
/// offered before login. Values from the server arrive bounded (see `bounded`).
public struct ConnectionFacts: Sendable, Hashable {
    /// "host:port".
    public var endpoint: String
    /// nil on a plaintext connection.
    public var tls: TLSSession?
    public var loginSeconds: Double
    /// Capability names offered before login, sorted.
    public var capabilities: [String]

    public init(endpoint: String, tls: TLSSession?, loginSeconds: Double, capabilities: [String]) {
        self.endpoint = endpoint
        self.tls = tls
        self.loginSeconds = loginSeconds
        self.capabilities = capabilities
    }
}

public struct TLSSession: Sendable, Hashable {
    public var version: String
    public var cipher: String?
    public var certificate: CertificateSummary

    public init(version: String, cipher: String?, certificate: CertificateSummary) {
        self.version = version
        self.cipher = cipher
        self.certificate = certificate
    }
}

public struct CertificateSummary: Sendable, Hashable {
    /// The leaf's end of validity.
    public var notAfter: Date
    /// The earliest end of validity in the chain as far as it is known (leaf and the
    /// trusted issuers of `ca_file`).
    public var chainNotAfter: Date
    public var subject: String
    public var issuer: String
    public var subjectAlternativeNames: [String]

    public init(notAfter: Date, chainNotAfter: Date, subject: String, issuer: String, subjectAlternativeNames: [String]) {
        self.notAfter = notAfter
        self.chainNotAfter = chainNotAfter
        self.subject = DisplayText.line(subject, maxCharacters: 300)
        self.issuer = DisplayText.line(issuer, maxCharacters: 300)
        self.subjectAlternativeNames = subjectAlternativeNames.prefix(50).map { DisplayText.line($0, maxCharacters: 255) }
    }
}

/// One server endpoint's health after a pass, from every connection the pass made to it.
public struct ServerHealth: Sendable, Hashable {
    public var server: String
    public var endpoint: String
    public var checkedAt: Date
    /// From the connection whose certificate expires first (several servers may answer
    /// behind one name).
    public var tls: TLSSession?
    /// Connections that failed TLS (handshake or certificate verification) this pass.
    public var tlsFailures: Int
    /// The latest TLS failure's text, for a person.
    public var tlsFailure: String?
    public var logins: Int
    public var loginSecondsSum: Double
    /// Login durations at 0.5, 0.9, 0.99 and the slowest (nearest rank).
    public var loginQuantiles: [Double: Double]
    public var capabilities: [String]
    /// When the capability set last differed from the pass before (nil: never seen change).
    public var capabilitiesChangedAt: Date?

    public init(server: String, endpoint: String, checkedAt: Date, tls: TLSSession?, tlsFailures: Int, tlsFailure: String?,
                logins: Int, loginSecondsSum: Double, loginQuantiles: [Double: Double], capabilities: [String],
                capabilitiesChangedAt: Date?) {
        self.server = server
        self.endpoint = endpoint
        self.checkedAt = checkedAt
        self.tls = tls
        self.tlsFailures = tlsFailures
        self.tlsFailure = tlsFailure
        self.logins = logins
        self.loginSecondsSum = loginSecondsSum
        self.loginQuantiles = loginQuantiles
        self.capabilities = capabilities
        self.capabilitiesChangedAt = capabilitiesChangedAt
    }

    /// Certificate verification passed on every TLS connection this pass (and one was made).
    public var verified: Bool { tls != nil && tlsFailures == 0 }

    public static let quantiles: [Double] = [0.5, 0.9, 0.99, 1]

    /// Seconds until the chain's first certificate expires.
    public func secondsToExpiry(now: Date) -> Double? {
        tls.map { $0.certificate.chainNotAfter.timeIntervalSince(now) }
    }
}

/// Gathers a pass's connection facts per server endpoint (pure; the run feeds it).
public struct ServerHealthTally: Sendable {
    struct Entry {
        var tls: TLSSession?
        var tlsFailures = 0
        var tlsFailure: String?
        var loginSeconds: [Double] = []
        var capabilities: [String]?
    }

    var entries: [String: [String: Entry]] = [:]

    public init() {}

    public mutating func add(server: String, _ facts: ConnectionFacts) {
        // In place: a copy of the entry copied its login times too, each connection of a
        // 10,000-account pass copying all those before it.
        Self.update(&entries[server, default: [:]][facts.endpoint, default: Entry()], with: facts)
    }

    private static func update(_ entry: inout Entry, with facts: ConnectionFacts) {
        if let tls = facts.tls, entry.tls.map({ tls.certificate.chainNotAfter < $0.certificate.chainNotAfter }) ?? true {
            entry.tls = tls
        }
        entry.loginSeconds.append(facts.loginSeconds)
        if entry.capabilities == nil { entry.capabilities = facts.capabilities }
    }

    public mutating func addTLSFailure(server: String, endpoint: String, message: String) {
        entries[server, default: [:]][endpoint, default: Entry()].tlsFailures += 1
        entries[server, default: [:]][endpoint, default: Entry()].tlsFailure = message
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Each endpoint's health; `previous` capabilities (by server and endpoint) and when
    /// they last changed, to carry or set the change time.
    public func health(at now: Date, previous: [String: [String: (capabilities: [String], changedAt: Date?)]]) -> [ServerHealth] {
        entries.keys.sorted().flatMap { server in
            entries[server, default: [:]].keys.sorted().map { endpoint in
                let e = entries[server, default: [:]][endpoint, default: Entry()]
                let sorted = e.loginSeconds.sorted()
                var quantiles: [Double: Double] = [:]
                if !sorted.isEmpty {
                    for q in ServerHealth.quantiles {
                        let rank = max(1, Int((q * Double(sorted.count)).rounded(.up)))
                        quantiles[q] = sorted[min(rank, sorted.count) - 1]
                    }
                }
                let before = previous[server]?[endpoint]
                // None seen this pass (every connection failed): the last known set stays.
                let seen = e.capabilities ?? []
                let capabilities = seen.isEmpty ? before?.capabilities ?? [] : seen
                let changedAt: Date? = if let before, !before.capabilities.isEmpty, before.capabilities != capabilities { now }
                    else { before?.changedAt }
                return ServerHealth(server: server, endpoint: endpoint, checkedAt: now, tls: e.tls, tlsFailures: e.tlsFailures,
                                    tlsFailure: e.tlsFailure, logins: sorted.count, loginSecondsSum: sorted.reduce(0, +),
                                    loginQuantiles: quantiles, capabilities: capabilities, capabilitiesChangedAt: changedAt)
            }
        }
    }
}
