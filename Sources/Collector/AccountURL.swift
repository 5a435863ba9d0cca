public import ClientNetworking
public import IMAPClient

/// `imaps://USER@HOST[:PORT]` (implicit TLS, 993) or `imap://USER@HOST[:PORT]` (STARTTLS,
/// 143). USER may contain `@` (the last one separates the host) and %-escapes; HOST may
/// be a bracketed IPv6 address.
public struct AccountURL: Sendable, Hashable {
    public var user: String
    public var host: String
    public var port: Int
    public var security: ConnectionConfiguration.Security

    public init(user: String, host: String, port: Int, security: ConnectionConfiguration.Security) {
        self.user = user
        self.host = host
        self.port = port
        self.security = security
    }

    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case invalid(String, reason: String)
        public var description: String {
            switch self {
            case .invalid(let url, let reason): "invalid account URL '\(url)': \(reason) (expected imaps://USER@HOST[:PORT] or imap://USER@HOST[:PORT])"
            }
        }
    }

    public static func parse(_ text: String) throws(ParseError) -> AccountURL {
        let security: ConnectionConfiguration.Security
        let defaultPort: Int
        let rest: Substring
        if text.lowercased().hasPrefix("imaps://") {
            security = .implicitTLS; defaultPort = 993; rest = text.dropFirst(8)
        } else if text.lowercased().hasPrefix("imap://") {
            security = .startTLS; defaultPort = 143; rest = text.dropFirst(7)
        } else {
            throw .invalid(text, reason: "scheme must be imaps:// or imap://")
        }
        var authority = rest
        if let slash = authority.firstIndex(of: "/") {
            guard authority[slash...].allSatisfy({ $0 == "/" }) else { throw .invalid(text, reason: "a path is not supported") }
            authority = authority[..<slash]
        }
        guard let at = authority.lastIndex(of: "@") else { throw .invalid(text, reason: "no user (USER@HOST)") }
        guard let user = percentDecode(authority[..<at]), !user.isEmpty else { throw .invalid(text, reason: "empty or badly escaped user") }
        if user.contains(":") { throw .invalid(text, reason: "do not put a password in the URL; use --password-file") }
        var hostPort = authority[authority.index(after: at)...]
        var host: Substring
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw .invalid(text, reason: "unclosed [ in IPv6 host") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            hostPort = hostPort[hostPort.index(after: close)...]
        } else if let colon = hostPort.firstIndex(of: ":") {
            host = hostPort[..<colon]
            hostPort = hostPort[colon...]
        } else {
            host = hostPort
            hostPort = ""
        }
        guard !host.isEmpty else { throw .invalid(text, reason: "empty host") }
        var port = defaultPort
        if !hostPort.isEmpty {
            guard hostPort.hasPrefix(":"), let p = Int(hostPort.dropFirst()), (1...65535).contains(p) else {
                throw .invalid(text, reason: "port must be a number from 1 to 65535")
            }
            port = p
        }
        return AccountURL(user: user, host: String(host), port: port, security: security)
    }

    static func percentDecode(_ s: Substring) -> String? {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
