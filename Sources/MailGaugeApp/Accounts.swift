public import Config
import Store

/// `mailgauge accounts prune`: forget accounts that are no longer in the config. Until
/// then their history stays (retention still ages it) but they are neither exported nor
/// reported.
public enum Accounts {
    /// The account ids removed (or, with `dryRun`, that would be).
    public static func prune(_ config: MailGaugeConfig, dryRun: Bool) throws -> [String] {
        let database = try AppDatabase(path: config.database)
        return try database.accountsNotIn(Set(config.accounts.map(\.id)), remove: !dryRun)
    }
}
