/// Why sending failed, naming the stage so the admin knows where to look. Never holds a
/// credential: AUTH exchanges are reported by mechanism only.
public enum SMTPError: Error, Sendable, Hashable, CustomStringConvertible {
    case dns(host: String, reason: String)
    case connect(host: String, port: Int, reason: String)
    case tls(reason: String)
    /// STARTTLS was required but the server does not offer it: refused before any
    /// credential or message is sent (fail closed).
    case startTLSUnavailable
    case authUnavailable(offered: [String])
    case authFailed(SMTPReply)
    /// The server answered a command with a 4xx/5xx reply.
    case rejected(command: String, reply: SMTPReply)
    /// Every recipient was refused.
    case noRecipientAccepted([String: SMTPReply])
    case timeout(stage: String, seconds: Double)
    case closed(stage: String)
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .dns(let h, let r): "DNS: cannot resolve \(h): \(r)"
        case .connect(let h, let p, let r): "connect: \(h):\(p): \(r)"
        case .tls(let r): "TLS: \(r)"
        case .startTLSUnavailable: "TLS: the SMTP server does not offer STARTTLS; refusing to continue in plaintext"
        case .authUnavailable(let offered):
            "auth: the SMTP server offers no usable AUTH mechanism (offered: \(offered.isEmpty ? "none" : offered.joined(separator: " "))); PLAIN or LOGIN needed"
        case .authFailed(let r): "auth: SMTP authentication failed: \(r)"
        case .rejected(let c, let r): "SMTP \(c) refused: \(r)"
        case .noRecipientAccepted(let m):
            "SMTP: every recipient was refused: " + m.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
        case .timeout(let s, let sec): "timeout: no SMTP reply to \(s) within \(sec) s"
        case .closed(let s): "SMTP server closed the connection during \(s)"
        case .protocolViolation(let m): "protocol: \(m)"
        }
    }

    /// A temporary condition (4xx, network trouble) rather than a configuration problem.
    /// mailgauge retries both on the next run; this is for callers that care.
    public var isTransient: Bool {
        switch self {
        case .rejected(_, let r): r.isTransient
        case .timeout, .closed, .connect, .dns: true
        default: false
        }
    }
}
