import Foundation
public import IMAPClient
import ClientNetworking
import IMAPCore
public import Logging
public import MailGaugeCore

/// Probes one account: connect, log in, read quota and folder sizes, log out.
public struct Prober: Sendable {
    public var connection: ConnectionConfiguration
    public var credentials: Credentials
    public var forcedMethod: FolderMethod?
    /// Folders one account may list; beyond, the probe fails with a clear error rather
    /// than issuing a command per folder without end.
    public var maxFolders: Int
    public var logger: Logger

    public static let defaultMaxFolders = 10_000

    public init(connection: ConnectionConfiguration, credentials: Credentials, forcedMethod: FolderMethod? = nil,
                maxFolders: Int = Prober.defaultMaxFolders, logger: Logger = Logger(label: "mailgauge.probe")) {
        self.connection = connection
        self.credentials = credentials
        self.forcedMethod = forcedMethod
        self.maxFolders = maxFolders
        self.logger = logger
    }

    /// `probe()` under an overall deadline (each command has its own as well): `probe`
    /// from the command line must end however a server behaves.
    public func probe(overallTimeoutSeconds: Double) async throws -> MailboxSnapshot {
        let result = await Deadline.run(seconds: overallTimeoutSeconds) { () async -> Result<MailboxSnapshot, any Error> in
            do { return .success(try await self.probe()) } catch { return .failure(error) }
        }
        guard let result else { throw IMAPClientError.timeout(stage: "the whole probe", seconds: overallTimeoutSeconds) }
        return try result.get()
    }

    public func probe() async throws -> MailboxSnapshot {
        let started = ContinuousClock.now
        let forcedMethod = self.forcedMethod
        let maxFolders = self.maxFolders
        let credentials = self.credentials
        let logger = self.logger
        let endpoint = "\(connection.host):\(connection.port)"
        return try await IMAPConnection.withConnection(connection, logger: logger) { imap in
            let offered = imap.capabilities.map(\.name).sorted()
            try await imap.authenticate(credentials)
            let loggedIn = started.duration(to: .now)
            let plan = try ProbePlan.make(capabilities: imap.capabilities, forced: forcedMethod)
            let (status, roots, folders) = try await Self.readQuotaAndFolders(imap, plan: plan, maxFolders: maxFolders, logger: logger)
            let elapsed = started.duration(to: .now)
            var snapshot = MailboxSnapshot(
                quotaRoots: roots, quotaStatus: status, folders: folders, method: plan.folderMethod,
                capabilities: imap.capabilities.map(\.name).sorted(), durationSeconds: Self.seconds(elapsed), alerts: imap.alerts)
            snapshot.connection = ConnectionFacts(endpoint: endpoint, tls: imap.tlsFacts.map(Self.session), loginSeconds: Self.seconds(loggedIn),
                                                  capabilities: Array(offered.prefix(200)))
            return snapshot
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func session(_ facts: TLSFacts) -> TLSSession {
        TLSSession(version: facts.version, cipher: facts.cipher, certificate: CertificateSummary(
            notAfter: Date(timeIntervalSince1970: facts.notAfter), chainNotAfter: Date(timeIntervalSince1970: facts.chainNotAfter),
            subject: facts.subject, issuer: facts.issuer, subjectAlternativeNames: facts.subjectAlternativeNames))
    }

    // MARK: - Quota and folders

    /// `GETQUOTAROOT INBOX` and the folder `LIST` (after the ID owed since login) in one
    /// pipelined write: one round trip where there were three. Each untagged response is
    /// taken by its kind, whichever command's answer it came in; the folder cap applies as
    /// the listing arrives.
    static func readQuotaAndFolders(_ imap: IMAPConnection, plan: ProbePlan, maxFolders: Int = defaultMaxFolders,
                                    logger: Logger) async throws -> (QuotaStatus, [QuotaRootUsage], [FolderUsage]) {
        var rootNames: [String] = []
        var quotas: [String: [QuotaResource]] = [:]
        var listings: [MailboxListing] = []
        var statuses: [MailboxName: MailboxStatus] = [:]
        let commands: [Command] = (plan.readQuota ? [.getQuotaRoot(.inbox)] : []) + [plan.listCommand]
        let results = try await imap.pipeline(commands) { _, response in
            switch response {
            case .quotaRoot(let r): rootNames.append(contentsOf: r.roots)
            case .quota(let q): quotas[q.root, default: []].append(contentsOf: q.resources)
            case .list(let l):
                guard listings.count < maxFolders else {
                    throw IMAPClientError.protocolViolation("the server listed more than \(maxFolders) folders (servers.<name>.max_folders)")
                }
                listings.append(l)
            case .mailboxStatus(let s): statuses[s.name] = s
            default: break
            }
        }
        // The listing's failure first: then no GETQUOTA round trip is spent on a failed probe.
        _ = try results[results.count - 1].get()
        var quota: (QuotaStatus, [QuotaRootUsage]) = (.unsupported, [])
        if plan.readQuota {
            switch results[0] {
            case .success:
                quota = try await quotaRoots(imap, rootNames: rootNames, quotas: quotas)
            case .failure(.commandFailed(_, let status)) where status.kind == .no:
                // Some servers answer NO when quota is configured off for this user.
                break
            case .failure(let error):
                throw error
            }
        }
        return (quota.0, quota.1, try await folders(imap, plan: plan, listings: listings, statuses: statuses, logger: logger))
    }

    /// Every root and every resource GETQUOTAROOT named. No root at all means no limit
    /// applies ("unlimited"); a root the server names without its QUOTA data is asked for
    /// with `GETQUOTA`.
    static func quotaRoots(_ imap: IMAPConnection, rootNames: [String], quotas: [String: [QuotaResource]]) async throws
        -> (QuotaStatus, [QuotaRootUsage]) {
        var quotas = quotas
        for root in rootNames where quotas[root] == nil {
            try await imap.execute(.getQuota(root: root)) { response in
                if case .quota(let q) = response { quotas[q.root, default: []].append(contentsOf: q.resources) }
            }
        }
        var names = rootNames
        for root in quotas.keys.sorted() where !names.contains(root) { names.append(root) }
        let roots = names.map { name in
            QuotaRootUsage(name: name, resources: (quotas[name] ?? []).map {
                ResourceUsage(resource: $0.name, usage: $0.usage, limit: $0.limit)
            })
        }
        let limited = roots.contains { !$0.resources.isEmpty }
        return (limited ? .ok : .unlimited, roots)
    }

    /// The folders' sizes from the listing: as listed with it (LIST-STATUS), or asked for
    /// per folder (STATUS, or EXAMINE and FETCH).
    static func folders(_ imap: IMAPConnection, plan: ProbePlan, listings: [MailboxListing], statuses: [MailboxName: MailboxStatus],
                        logger: Logger) async throws -> [FolderUsage] {
        var statuses = statuses
        // \Noselect and \NonExistent hold no messages and cannot be opened.
        let selectable = deduplicated(listings.filter(\.isSelectable))
        switch plan.folderMethod {
        case .listStatus:
            // A server may leave out STATUS for a folder it failed to open: ask directly.
            let missing = selectable.filter { statuses[$0.name] == nil }.map(\.name)
            if !missing.isEmpty {
                for (name, status) in try await statusPerFolder(imap, missing, logger: logger) { statuses[name] = status }
            }
        case .status:
            for (name, status) in try await statusPerFolder(imap, selectable.map(\.name), logger: logger) { statuses[name] = status }
        case .fetch:
            var usages: [FolderUsage] = []
            for listing in selectable {
                do {
                    let (messages, bytes) = try await fetchSizes(imap, listing.name, logger: logger)
                    usages.append(usage(listing, messages: messages, bytes: bytes))
                } catch IMAPClientError.commandFailed(let verb, let status) where verb == "EXAMINE" && status.kind == .no {
                    logger.warning("folder skipped", metadata: ["folder": "\(DisplayText.line(listing.name.decoded))", "reason": "\(DisplayText.line(status.text.text))"])
                }
            }
            return usages
        }
        return try selectable.compactMap { listing in
            guard let status = statuses[listing.name] else { return nil }  // skipped above, with a warning
            guard let messages = status.messages, let size = status.size else {
                throw IMAPClientError.protocolViolation("no MESSAGES/SIZE status for folder \(DisplayText.line(listing.name.decoded))")
            }
            // STATUS SIZE is a number64 (within range); anything past it is unknown.
            return usage(listing, messages: messages, bytes: ByteCount(exactly: size))
        }
    }

    /// `STATUS name (MESSAGES SIZE)` for each folder, pipelined in one write. A folder
    /// that vanished between LIST and STATUS (NO [NONEXISTENT]) is left out, not fatal.
    static func statusPerFolder(_ imap: IMAPConnection, _ names: [MailboxName], logger: Logger) async throws -> [(MailboxName, MailboxStatus)] {
        let results = try await imap.pipeline(names.map { .status($0, [.messages, .size]) })
        var out: [(MailboxName, MailboxStatus)] = []
        for (name, result) in zip(names, results) {
            switch result {
            case .success(let responses):
                for case .mailboxStatus(let s) in responses where s.name == name { out.append((name, s)) }
            case .failure(let error):
                // NO for one folder (it vanished between LIST and STATUS, or the server
                // cannot open it): it holds nothing we can count; the others still count.
                if case .commandFailed(_, let status) = error, status.kind == .no {
                    logger.warning("folder skipped", metadata: ["folder": "\(DisplayText.line(name.decoded))", "reason": "\(DisplayText.line(status.text.text))"])
                    continue
                }
                throw error
            }
        }
        return out
    }

    /// `EXAMINE` (read-only: never changes \Recent or \Seen), then `FETCH 1:* (RFC822.SIZE)`.
    /// The size is nil (unknown) when the messages' sizes add up past 2^63−1 bytes.
    static func fetchSizes(_ imap: IMAPConnection, _ name: MailboxName, logger: Logger) async throws -> (UInt64, ByteCount?) {
        var exists: UInt32 = 0
        try await imap.execute(.examine(name)) { response in
            if case .exists(let n) = response { exists = n }
        }
        var total: ByteCount? = .zero
        var seen = Set<UInt32>()
        if exists > 0 {
            try await imap.execute(.fetch(sequenceSet: "1:*", items: ["RFC822.SIZE"])) { response in
                guard case .fetch(let seq, let attributes) = response else { return }
                for case .rfc822Size(let size) in attributes where seen.insert(seq).inserted {
                    total = ByteCount(exactly: size).flatMap { total?.adding($0) }
                }
            }
        }
        if total == nil {
            logger.warning("folder size unknown: \(FolderUsage.unknownSizeReason)", metadata: ["folder": "\(DisplayText.line(name.decoded))"])
        }
        return (UInt64(exists), total)
    }

    static func usage(_ listing: MailboxListing, messages: UInt64, bytes: ByteCount?) -> FolderUsage {
        FolderUsage(name: listing.name.decoded, rawName: listing.name.wire, specialUse: listing.specialUse,
                    messages: messages, sizeBytes: bytes)
    }

    /// Some servers list a name twice (e.g. INBOX in two namespaces): count it once.
    static func deduplicated(_ listings: [MailboxListing]) -> [MailboxListing] {
        var seen = Set<MailboxName>()
        return listings.filter { seen.insert($0.name).inserted }
    }
}
