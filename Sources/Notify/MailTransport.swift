import Foundation
import ChildProcess
public import Logging
public import SMTPClient
import MailGaugeCore

/// How email leaves: our SMTP client, or the local `sendmail` program.
public enum MailTransport: Sendable {
    case smtp(SMTPConfiguration)
    /// Path of a sendmail-compatible binary (Postfix, Exim, msmtp, nullmailer).
    case sendmail(path: String, timeoutSeconds: Double)

    /// Sends each message; one result per message, in order. Over SMTP they share one
    /// session; a session that cannot be opened fails them all with its reason.
    public func send(_ messages: [(message: MailMessage, recipients: [String])], logger: Logger) async -> [Result<String, NotifyError>] {
        guard !messages.isEmpty else { return [] }
        switch self {
        case .smtp(let configuration):
            var results: [Result<String, NotifyError>] = []
            do {
                try await SMTPSession.withSession(configuration, logger: logger) { session in
                    for (message, recipients) in messages {
                        do {
                            let delivery = try await session.send(message, recipients: recipients)
                            var note = "accepted by \(delivery.accepted.count) recipient(s): \(delivery.reply)"
                            if !delivery.refused.isEmpty {
                                note += "; refused: " + delivery.refused.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
                            }
                            results.append(.success(note))
                        } catch let error as SMTPError {
                            results.append(.failure(NotifyError(error.description)))
                            // After a refusal the session is still in step (RSET follows);
                            // after anything else it is not: fail the rest with it.
                            switch error {
                            case .rejected, .noRecipientAccepted: continue
                            default: throw error
                            }
                        }
                    }
                }
            } catch {
                let reason = (error as? SMTPError)?.description ?? "\(error)"
                while results.count < messages.count { results.append(.failure(NotifyError(reason))) }
            }
            return results
        case .sendmail(let path, let timeout):
            var results: [Result<String, NotifyError>] = []
            for (message, recipients) in messages {
                results.append(await Self.sendmail(path: path, timeoutSeconds: timeout, message: message, recipients: recipients))
            }
            return results
        }
    }

    /// `sendmail -i -f FROM -- RCPT…` with the message on stdin (LF line endings, as
    /// local mailers expect). Exit status 0 is success (sendmail's EX_OK). Started as
    /// `ChildProcess` starts a child: nothing inherited, its own process group killed at
    /// the deadline, which counts from the start and covers feeding it the message.
    static func sendmail(path: String, timeoutSeconds: Double, message: MailMessage, recipients: [String]) async -> Result<String, NotifyError> {
        let valid = recipients.filter(MailAddress.isPlausible)
        guard !valid.isEmpty else { return .failure(NotifyError("sendmail: no valid recipient")) }
        guard MailAddress.isPlausible(message.from.address) else { return .failure(NotifyError("sendmail: the sender is not a valid address")) }
        let body = String(decoding: message.rendered(), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let result = await ChildProcess.runOnThread([path, "-i", "-f", message.from.address, "--"] + valid, stdin: Array(body.utf8),
                                                    environment: ChildProcess.minimalEnvironment(), timeoutSeconds: timeoutSeconds,
                                                    maxOutputBytes: 64 * 1024)
        switch result {
        case .failure(.cannotStart(let why)): return .failure(NotifyError("sendmail \(path): cannot start: \(why)"))
        case .failure(.timedOut):
            return .failure(NotifyError("sendmail \(path): no exit within \(timeoutSeconds) s; its process group was killed"))
        case .failure(.tooMuchOutput): return .failure(NotifyError("sendmail \(path): too much output; its process group was killed"))
        case .success(let output):
            let errorText = String(decoding: output.stderr, as: UTF8.self)
                .split(whereSeparator: \.isNewline).first.map { DisplayText.line(String($0)) } ?? ""
            guard output.status == 0 else {
                let how = output.signal.map { "was killed by signal \($0)" } ?? "exited \(output.status ?? -1)"
                return .failure(NotifyError("sendmail \(path) \(how)\(errorText.isEmpty ? "" : ": \(errorText)")"))
            }
            return .success("handed to \(path)")
        }
    }
}

public struct NotifyError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
