/// One agent's share of the accounts (`shard: K/N`, or `run --shard K/N`): each account
/// belongs to exactly one of N agents, by a stable hash of its id, so N hosts split one
/// account list without coordinating. Each keeps its own database; the metrics carry a
/// `shard` label and Prometheus and Alertmanager hold the fleet-wide view.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// 1…count.
    public let index: Int
    public let count: Int

    public static let maximumCount = 1024

    /// "K/N" with 1 ≤ K ≤ N ≤ 1024; nil otherwise.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]),
              (1...Shard.maximumCount).contains(n), (1...n).contains(k) else { return nil }
        index = k
        count = n
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether this shard probes the account: FNV-1a (64 bit) of its id, modulo N. Stable
    /// across versions, hosts and the order of the config; only the id decides.
    public func contains(_ accountID: String) -> Bool {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in accountID.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(count)) == index - 1
    }
}

extension MailGaugeConfig {
    /// Keeps only this shard's accounts (of the full list the config gives).
    mutating func applyShard(_ shard: Shard) {
        self.shard = shard
        accounts = accounts.filter { shard.contains($0.id) }
    }
}
