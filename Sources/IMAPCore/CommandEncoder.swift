/// Turns a `Command` into bytes, choosing for each string the form the grammar allows:
/// an atom when it is one, a quoted string when it is plain 7-bit text, otherwise a literal.
/// Synchronising literals (`{n}`) split the command into parts: the client must wait for the
/// server's `+` before sending each next part. With LITERAL+ (RFC 7888) literals are
/// non-synchronising (`{n+}`) and a command is one part; with LITERAL- only up to 4096 octets.
public struct CommandEncoder: Sendable {
    public struct Options: Sendable, Hashable {
        /// Server offers LITERAL+: every literal may be `{n+}`.
        public var literalPlus: Bool
        /// Server offers LITERAL-: literals up to 4096 octets may be `{n+}`.
        public var literalMinus: Bool
        /// Longest string sent quoted; longer ones go as literals.
        public var maxQuotedLength: Int

        public init(literalPlus: Bool = false, literalMinus: Bool = false, maxQuotedLength: Int = 1024) {
            self.literalPlus = literalPlus
            self.literalMinus = literalMinus
            self.maxQuotedLength = maxQuotedLength
        }

        public init(capabilities: Set<Capability>) {
            self.init(literalPlus: capabilities.contains(.literalPlus), literalMinus: capabilities.contains(.literalMinus))
        }
    }

    /// A command ready to send: `parts[0]`, then after each `+` from the server the next part.
    public struct Encoded: Sendable, Hashable {
        public var parts: [[UInt8]]
        public var flattened: [UInt8] { parts.flatMap { $0 } }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    public func encode(_ command: Command, tag: String) -> Encoded {
        var w = Writer(options: options)
        w.raw(tag)
        w.raw(" ")
        switch command {
        case .capability: w.raw("CAPABILITY")
        case .noop: w.raw("NOOP")
        case .logout: w.raw("LOGOUT")
        case .startTLS: w.raw("STARTTLS")
        case .unselect: w.raw("UNSELECT")
        case .close: w.raw("CLOSE")
        case .login(let user, let password):
            w.raw("LOGIN ")
            w.astring(Array(user.utf8))
            w.raw(" ")
            w.astring(Array(password.utf8))
        case .authenticate(let mechanism, let initial):
            w.raw("AUTHENTICATE ")
            w.raw(mechanism)
            if let initial {
                w.raw(" ")
                w.raw(initial.isEmpty ? "=" : initial)  // RFC 4959: "=" is an empty response
            }
        case .id(let params):
            w.raw("ID ")
            if let params {
                w.raw("(")
                for (n, p) in params.enumerated() {
                    if n > 0 { w.raw(" ") }
                    w.string(Array(p.key.utf8))
                    w.raw(" ")
                    if let v = p.value { w.string(Array(v.utf8)) } else { w.raw("NIL") }
                }
                w.raw(")")
            } else {
                w.raw("NIL")
            }
        case .getQuotaRoot(let mailbox):
            w.raw("GETQUOTAROOT ")
            w.astring(mailbox.bytes)
        case .getQuota(let root):
            w.raw("GETQUOTA ")
            w.astring(Array(root.utf8))
        case .list(let reference, let pattern, let returnOptions):
            w.raw("LIST ")
            w.astring(reference.bytes, allowEmptyQuoted: true)
            w.raw(" ")
            w.listMailbox(Array(pattern.utf8))
            if !returnOptions.isEmpty {
                w.raw(" RETURN (")
                for (n, option) in returnOptions.enumerated() {
                    if n > 0 { w.raw(" ") }
                    switch option {
                    case .specialUse: w.raw("SPECIAL-USE")
                    case .subscribed: w.raw("SUBSCRIBED")
                    case .children: w.raw("CHILDREN")
                    case .status(let attributes):
                        w.raw("STATUS (" + attributes.map(\.rawValue).joined(separator: " ") + ")")
                    }
                }
                w.raw(")")
            }
        case .status(let mailbox, let attributes):
            w.raw("STATUS ")
            w.astring(mailbox.bytes)
            w.raw(" (" + attributes.map(\.rawValue).joined(separator: " ") + ")")
        case .examine(let mailbox):
            w.raw("EXAMINE ")
            w.astring(mailbox.bytes)
        case .fetch(let set, let items):
            w.raw("FETCH \(set) (" + items.joined(separator: " ") + ")")
        }
        w.raw("\r\n")
        return Encoded(parts: w.finish())
    }

    private struct Writer {
        let options: Options
        var parts: [[UInt8]] = []
        var current: [UInt8] = []

        mutating func raw(_ s: String) { current.append(contentsOf: s.utf8) }

        /// astring = 1*ASTRING-CHAR / string
        mutating func astring(_ bytes: [UInt8], allowEmptyQuoted: Bool = true) {
            if !bytes.isEmpty, bytes.allSatisfy(isStrictAstringChar), !isNIL(bytes) {
                current.append(contentsOf: bytes)
            } else {
                string(bytes)
            }
        }

        /// list-mailbox = 1*list-char / string; list-char = ATOM-CHAR / list-wildcards / resp-specials
        mutating func listMailbox(_ bytes: [UInt8]) {
            if !bytes.isEmpty, bytes.allSatisfy({ isStrictAstringChar($0) || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "*") }) {
                current.append(contentsOf: bytes)
            } else {
                string(bytes)
            }
        }

        /// string = quoted / literal
        mutating func string(_ bytes: [UInt8]) {
            if bytes.count <= options.maxQuotedLength, bytes.allSatisfy(isQuotable) {
                current.append(UInt8(ascii: "\""))
                for b in bytes {
                    if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { current.append(UInt8(ascii: "\\")) }
                    current.append(b)
                }
                current.append(UInt8(ascii: "\""))
                return
            }
            let nonSync = options.literalPlus || (options.literalMinus && bytes.count <= 4096)
            raw("{\(bytes.count)\(nonSync ? "+" : "")}\r\n")
            if !nonSync {
                parts.append(current)
                current = []
            }
            current.append(contentsOf: bytes)
        }

        mutating func finish() -> [[UInt8]] {
            parts.append(current)
            return parts
        }

        private func isNIL(_ bytes: [UInt8]) -> Bool {
            bytes.count == 3 && String(decoding: bytes, as: UTF8.self).uppercased() == "NIL"
        }
    }
}

/// ASTRING-CHAR for what we send: strictly 7-bit (the parser is more lenient).
private func isStrictAstringChar(_ b: UInt8) -> Bool { isAtomChar(b) || b == UInt8(ascii: "]") }

/// QUOTED-CHAR without 8-bit (UTF-8 goes as a literal: always valid, with or without UTF8=ACCEPT).
private func isQuotable(_ b: UInt8) -> Bool { b >= 0x01 && b <= 0x7F && b != 0x0D && b != 0x0A }
