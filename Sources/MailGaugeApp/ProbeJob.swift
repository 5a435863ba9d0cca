import ClientNetworking
import Collector
import Foundation
public import IMAPClient
public import Logging
public import MailGaugeCore
public import Presentation

/// `mailgauge probe`: one account from a URL, no config, no database.
public enum ProbeJob {
    public struct Options: Sendable {
        public var url: String
        public var passwordFile: String?
        public var tokenFile: String?
        public var caFile: String?
        public var mechanism: Credentials.Mechanism
        public var authorizationID: String?
        public var method: FolderMethod?
        public var insecurePlaintext: Bool
        public var timeoutSeconds: Double
        public var overallTimeoutSeconds: Double
        public var json: Bool

        public init(url: String, passwordFile: String?, tokenFile: String?, caFile: String?, mechanism: Credentials.Mechanism,
                    authorizationID: String?, method: FolderMethod?, insecurePlaintext: Bool, timeoutSeconds: Double,
                    overallTimeoutSeconds: Double, json: Bool) {
            self.url = url
            self.passwordFile = passwordFile
            self.tokenFile = tokenFile
            self.caFile = caFile
            self.mechanism = mechanism
            self.authorizationID = authorizationID
            self.method = method
            self.insecurePlaintext = insecurePlaintext
            self.timeoutSeconds = timeoutSeconds
            self.overallTimeoutSeconds = overallTimeoutSeconds
            self.json = json
        }
    }

    /// What to print: the rendering for stdout, the server's alerts for stderr.
    public struct Output: Sendable {
        public var text: String
        public var alerts: [String]
    }

    /// One line for stderr; the command exits 2 with it.
    public struct Failure: Error, Sendable {
        public var message: String
    }

    public static func run(_ options: Options, logger: Logger) async throws(Failure) -> Output {
        let target: AccountURL
        do {
            target = try AccountURL.parse(options.url)
        } catch {
            throw Failure(message: error.description)
        }
        var security = target.security
        if options.insecurePlaintext {
            guard security == .startTLS else { throw Failure(message: "--insecure-plaintext applies to imap:// URLs only") }
            security = .insecurePlaintext
        }
        let isToken = options.mechanism == .xoauth2 || options.mechanism == .oauthbearer
        let secret = try readSecret(passwordFile: options.passwordFile, tokenFile: options.tokenFile, isToken: isToken,
                                    prompt: "Password for \(target.user)@\(target.host): ")
        let prober = Prober(
            connection: ConnectionConfiguration(host: target.host, port: target.port, security: security, caFile: options.caFile,
                                                timeoutSeconds: options.timeoutSeconds, clientID: Targets.clientID),
            credentials: Credentials(user: target.user, secret: secret, mechanism: options.mechanism,
                                     authorizationID: options.authorizationID),
            forcedMethod: options.method, logger: logger)
        let snapshot: MailboxSnapshot
        do {
            snapshot = try await prober.probe(overallTimeoutSeconds: options.overallTimeoutSeconds)
        } catch {
            let reason = (error as? IMAPClientError)?.description ?? (error as? ProbePlan.PlanError)?.description ?? "\(error)"
            throw Failure(message: "probe \(target.user)@\(target.host):\(target.port) failed: \(DisplayText.line(reason, maxCharacters: 1000))")
        }
        let text: String
        if options.json {
            do {
                text = try SnapshotRendering.json(snapshot) + "\n"
            } catch {
                throw Failure(message: "cannot encode the result: \(error)")
            }
        } else {
            let scheme = target.security == .implicitTLS ? "imaps" : (security == .insecurePlaintext ? "imap, plaintext" : "imap+STARTTLS")
            text = SnapshotRendering.table(snapshot, title: "\(target.user) on \(target.host):\(target.port) (\(scheme))")
                + (snapshot.connection.map(Self.serverLines) ?? "")
        }
        // RFC 3501 §7.1: an [ALERT] must reach the person.
        return Output(text: text, alerts: snapshot.alerts.map { DisplayText.line($0) })
    }

    /// What the connection said about the server: TLS, certificate, login time.
    static func serverLines(_ c: ConnectionFacts) -> String {
        var out = "\nServer \(c.endpoint): login in \(SizeFormat.fixed(c.loginSeconds, digits: 3)) s"
        if let tls = c.tls {
            let cert = tls.certificate
            out += ", \(tls.version) \(tls.cipher ?? "(cipher unknown)")\n"
            out += "  certificate: \(cert.subject), issued by \(cert.issuer), valid until \(Reports.iso(cert.notAfter))"
            if cert.chainNotAfter < cert.notAfter { out += " (an issuer until \(Reports.iso(cert.chainNotAfter)))" }
            out += "\n  names: \(cert.subjectAlternativeNames.joined(separator: " "))\n"
        } else {
            out += ", without TLS\n"
        }
        return out
    }

    /// The password or token: a file (first line), else a prompt on a terminal, else
    /// $MAILGAUGE_PASSWORD. Never from the command line, where `ps` would show it.
    static func readSecret(passwordFile: String?, tokenFile: String?, isToken: Bool, prompt: String) throws(Failure) -> String {
        if let path = isToken ? (tokenFile ?? passwordFile) : (passwordFile ?? tokenFile) {
            guard let data = FileManager.default.contents(atPath: path) else { throw Failure(message: "cannot read secret file \(path)") }
            let secret = Secrets.firstLine(String(decoding: data, as: UTF8.self))
            guard !secret.isEmpty else { throw Failure(message: "secret file \(path) is empty") }
            return secret
        }
        if isatty(STDIN_FILENO) == 1, let entered = getpass(prompt) {
            return String(cString: entered)
        }
        if let env = ProcessInfo.processInfo.environment["MAILGAUGE_PASSWORD"], !env.isEmpty {
            return env
        }
        throw Failure(message: "no password: use --password-file, a terminal prompt, or MAILGAUGE_PASSWORD")
    }
}
