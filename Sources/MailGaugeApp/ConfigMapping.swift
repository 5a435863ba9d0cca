import Config
import IMAPClient
import MailGaugeCore
import Notify

// The config's choices as the domain's types. Config depends on nothing, so it names its
// own choices; each maps here once, by an exhaustive switch: a case added on either side
// is a compile error, never a silent fallback.

extension FolderMethodChoice {
    /// The folder method forced by the config; nil for `auto` (the capabilities decide).
    var forced: FolderMethod? {
        switch self {
        case .auto: nil
        case .listStatus: .listStatus
        case .status: .status
        case .fetch: .fetch
        }
    }
}

extension AuthMethod {
    var mechanism: Credentials.Mechanism {
        switch self {
        case .auto: .auto
        case .login: .login
        case .plain: .plain
        case .xoauth2: .xoauth2
        case .oauthbearer: .oauthbearer
        }
    }
}

extension WebhookFormat {
    var format: Webhook.Format {
        switch self {
        case .json: .json
        case .alertmanager: .alertmanager
        }
    }
}

extension SchedulePolicy {
    var policy: ProbeSchedule.Policy {
        switch self {
        case .adaptive: .adaptive
        case .fixed: .fixed
        }
    }
}
