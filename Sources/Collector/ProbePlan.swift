public import IMAPCore
public import MailGaugeCore

/// What a probe will ask, decided from the server's capabilities alone (a pure function,
/// so every server profile is unit-tested without a server).
public struct ProbePlan: Sendable, Hashable {
    /// `GETQUOTAROOT INBOX` when the server offers QUOTA (RFC 9208 / RFC 2087).
    public var readQuota: Bool
    public var folderMethod: FolderMethod
    /// Ask LIST for special-use attributes with `RETURN (SPECIAL-USE)` (RFC 6154 §2).
    public var listReturnsSpecialUse: Bool

    public init(readQuota: Bool, folderMethod: FolderMethod, listReturnsSpecialUse: Bool) {
        self.readQuota = readQuota
        self.folderMethod = folderMethod
        self.listReturnsSpecialUse = listReturnsSpecialUse
    }

    /// The LIST command that enumerates folders for this plan.
    public var listCommand: Command {
        var options: [ListReturnOption] = []
        if listReturnsSpecialUse { options.append(.specialUse) }
        if folderMethod == .listStatus { options.append(.status([.messages, .size])) }
        return .list(reference: MailboxName(bytes: []), pattern: "*", returnOptions: options)
    }

    public enum PlanError: Error, Sendable, Hashable, CustomStringConvertible {
        /// A method was forced that the server cannot do.
        case methodUnsupported(FolderMethod, missing: [String])

        public var description: String {
            switch self {
            case .methodUnsupported(let method, let missing):
                "protocol: --method \(method.rawValue) needs \(missing.joined(separator: " and ")), which the server does not offer"
            }
        }
    }

    /// - Parameter forced: a method the user insisted on; nil chooses the fastest offered.
    public static func make(capabilities: Set<Capability>, forced: FolderMethod? = nil) throws(PlanError) -> ProbePlan {
        let canListStatus = capabilities.contains(.listStatus) && capabilities.contains(.statusSize)
        let canStatusSize = capabilities.contains(.statusSize)
        let method: FolderMethod
        switch forced {
        case nil:
            method = canListStatus ? .listStatus : canStatusSize ? .status : .fetch
        case .listStatus?:
            guard canListStatus else {
                throw .methodUnsupported(.listStatus, missing: [.listStatus, .statusSize].filter { !capabilities.contains($0) }.map(\.name))
            }
            method = .listStatus
        case .status?:
            guard canStatusSize else { throw .methodUnsupported(.status, missing: ["STATUS=SIZE"]) }
            method = .status
        case .fetch?:
            method = .fetch
        }
        // RETURN options need LIST-EXTENDED syntax (RFC 5258); SPECIAL-USE servers with
        // LIST-STATUS accept it, and RFC 6154 servers without LIST-EXTENDED still return
        // special-use attributes unasked.
        let specialUse = capabilities.contains(.specialUse)
            && (capabilities.contains(.listExtended) || capabilities.contains(.listStatus))
        return ProbePlan(readQuota: capabilities.contains(.quota), folderMethod: method, listReturnsSpecialUse: specialUse)
    }
}
