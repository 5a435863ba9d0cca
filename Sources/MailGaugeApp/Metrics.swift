public import Config
import Exposition
public import MailGaugeCore
public import Store

/// Metrics as configured: the folder export policy and the version label.
public enum Metrics {
    public static let version = MailGaugeVersion.current

    public static func render(_ database: AppDatabase, config: MailGaugeConfig,
                              extraGauges: [(name: String, help: String, value: Double)] = []) throws -> String {
        render(try database.storedState(), config: config, extraGauges: extraGauges)
    }

    /// From a state already read (a pass reads it once for alerts and metrics).
    public static func render(_ state: StoredState, config: MailGaugeConfig,
                              extraGauges: [(name: String, help: String, value: Double)] = []) -> String {
        let configured = Set(config.accounts.map(\.id))
        var input = ExpositionInput(state.limited(to: configured), folders: folderExport(config), version: version)
        input.shard = config.shard?.description
        let thresholds = Alerting.thresholds(config)
        input.thresholds = Dictionary(config.accounts.map { account in
            let t = thresholds(account.id)
            return (account.id, (t.warning, t.critical))
        }, uniquingKeysWith: { a, _ in a })
        input.extraGauges = extraGauges
        return MetricsRenderer.render(input)
    }

    /// Before any run: only the extra gauges and build info.
    public static func renderWithoutDatabase(extraGauges: [(name: String, help: String, value: Double)]) -> String {
        MetricsRenderer.render(ExpositionInput(states: [], failureCounts: [:], lastRun: nil, folders: .none, version: version,
                                               extraGauges: extraGauges))
    }

    static func folderExport(_ config: MailGaugeConfig) -> ExpositionInput.FolderExport {
        switch config.folders.export {
        case .none: .none
        case .top: .top(config.folders.topN)
        case .all: .all
        }
    }
}
