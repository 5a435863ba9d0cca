import IMAPClient
public import MailGaugeCore

extension ProbeFailure {
    /// Maps client and plan errors to the failure classes stored and exported.
    public static func classify(_ error: any Error) -> ProbeFailure {
        if let e = error as? ProbeFailure { return e }
        if let e = error as? IMAPClientError {
            let reason: FailureReason = switch e.failureClass {
            case .dns: .dns
            case .connect: .connect
            case .tls: .tls
            case .auth: .auth
            case .timeout: .timeout
            case .protocol: .protocol
            }
            // Server text inside (replies, folder names): escaped once, here, for every output.
            return ProbeFailure(reason: reason, message: DisplayText.line(e.description, maxCharacters: 1000),
                                isTransient: e.isTransient, isRateLimited: e.isRateLimited)
        }
        if let e = error as? ProbePlan.PlanError { return ProbeFailure(reason: .protocol, message: e.description) }
        return ProbeFailure(reason: .protocol, message: "\(error)")
    }
}
