/// Recursive-descent parser for one complete response, as framed by `ResponseParser`.
/// Each function names the ABNF it implements (RFC 3501 §9 unless noted). Keywords are
/// case-insensitive; lists are bounded by `Limits.maxNestingDepth`.
struct ResponseGrammar {
    private let bytes: ArraySlice<UInt8>
    private var i: Int
    private let limits: ResponseParser.Limits
    private var depth = 0

    static func parse(_ frame: ArraySlice<UInt8>, limits: ResponseParser.Limits) throws(IMAPParseError) -> Response {
        var g = ResponseGrammar(bytes: frame, i: frame.startIndex, limits: limits)
        return try g.response()
    }

    private init(bytes: ArraySlice<UInt8>, i: Int, limits: ResponseParser.Limits) {
        self.bytes = bytes
        self.i = i
        self.limits = limits
    }

    // MARK: - Top level

    /// response = continue-req / response-data / response-tagged   (one at a time)
    private mutating func response() throws(IMAPParseError) -> Response {
        let result: Response
        if try peekByte() == UInt8(ascii: "+") {
            // continue-req = "+" [SP] (resp-text / base64) CRLF   (SP made optional: some servers omit it)
            i += 1
            if peek() == UInt8(ascii: " ") { i += 1 }
            result = .continuation(try textToEOL())
        } else if peek() == UInt8(ascii: "*") {
            i += 1
            try sp()
            result = .untagged(try responseData())
        } else {
            // response-tagged = tag SP resp-cond-state CRLF
            let tag = try tagAtom()
            try sp()
            let word = try atom().uppercased()
            guard let kind = ResponseStatus.Kind(rawValue: word) else {
                throw error("OK, NO or BAD", at: i - word.utf8.count)
            }
            result = .tagged(tag: tag, status: ResponseStatus(kind, try respTextAfterKeyword()))
        }
        try crlf()
        return result
    }

    /// response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data
    ///                 / capability-data / enable-data / quota-response / id-response) CRLF
    private mutating func responseData() throws(IMAPParseError) -> UntaggedResponse {
        if let d = peek(), isDigit(d) {
            // message-data = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att)); mailbox-data numbers
            let start = i
            let n = try number32()
            try sp()
            let word = try atom().uppercased()
            switch word {
            case "EXISTS": return .exists(n)
            case "RECENT": return .recent(n)
            case "EXPUNGE": return .expunge(n)
            case "FETCH":
                try sp()
                return .fetch(sequence: n, attributes: try msgAtt())
            default:
                i = start
                return .other(keyword: word, rest: restOfLine())
            }
        }
        let keyword = try atom().uppercased()
        switch keyword {
        case "OK": return .status(ResponseStatus(.ok, try respTextAfterKeyword()))
        case "NO": return .status(ResponseStatus(.no, try respTextAfterKeyword()))
        case "BAD": return .status(ResponseStatus(.bad, try respTextAfterKeyword()))
        case "PREAUTH": return .preauth(try respTextAfterKeyword())
        case "BYE": return .bye(try respTextAfterKeyword())
        case "CAPABILITY": return .capability(try capabilityList(until: nil))
        case "ENABLED":
            var caps: [String] = []
            while peek() == UInt8(ascii: " ") { i += 1; caps.append(try atom()) }
            return .enabled(caps)
        case "LIST": try sp(); return .list(try mailboxList())
        case "LSUB": try sp(); return .lsub(try mailboxList())
        case "STATUS": try sp(); return .mailboxStatus(try statusResponse())
        case "QUOTA": try sp(); return .quota(try quotaResponse())
        case "QUOTAROOT": try sp(); return .quotaRoot(try quotaRootResponse())
        case "ID": try sp(); return .id(try idParams())
        case "FLAGS": try sp(); return .flags(try flagList())
        case "SEARCH":
            var ids: [UInt32] = []
            while peek() == UInt8(ascii: " ") {
                i += 1
                guard let d = peek(), isDigit(d) else { break }  // e.g. "(MODSEQ n)" from CONDSTORE
                ids.append(try number32())
            }
            _ = restOfLine()
            return .search(ids)
        default:
            return .other(keyword: keyword, rest: restOfLine())
        }
    }

    // MARK: - Status responses

    /// resp-text = ["[" resp-text-code "]" SP] text, after the keyword. Lenient where real
    /// servers are: a missing text ("a1 OK") and a code with no text after it.
    private mutating func respTextAfterKeyword() throws(IMAPParseError) -> ResponseText {
        guard peek() == UInt8(ascii: " ") else { return ResponseText(text: "") }
        i += 1
        var code: ResponseCode?
        if peek() == UInt8(ascii: "[") {
            i += 1
            code = try respTextCode()
            try expect(UInt8(ascii: "]"), "]")
            if peek() == UInt8(ascii: " ") { i += 1 }
        }
        return ResponseText(code: code, text: try textToEOL())
    }

    /// resp-text-code = atom [SP 1*<any TEXT-CHAR except "]">] with the known forms typed.
    private mutating func respTextCode() throws(IMAPParseError) -> ResponseCode {
        let name = try atomExcept(UInt8(ascii: "]")).uppercased()
        switch name {
        case "ALERT": return .alert
        case "PARSE": return .parse
        case "READ-ONLY": return .readOnly
        case "READ-WRITE": return .readWrite
        case "TRYCREATE": return .tryCreate
        case "UNAVAILABLE": return .unavailable
        case "AUTHENTICATIONFAILED": return .authenticationFailed
        case "AUTHORIZATIONFAILED": return .authorizationFailed
        case "EXPIRED": return .expired
        case "PRIVACYREQUIRED": return .privacyRequired
        case "CONTACTADMIN": return .contactAdmin
        case "NOPERM": return .noPermission
        case "INUSE": return .inUse
        case "LIMIT": return .limit
        case "OVERQUOTA": return .overQuota
        case "ALREADYEXISTS": return .alreadyExists
        case "NONEXISTENT": return .nonExistent
        case "SERVERBUG": return .serverBug
        case "CLIENTBUG": return .clientBug
        case "CANNOT": return .cannot
        case "CAPABILITY": return .capability(try capabilityList(until: UInt8(ascii: "]")))
        case "UIDNEXT": try sp(); return .uidNext(try number32())
        case "UIDVALIDITY": try sp(); return .uidValidity(try number32())
        case "UNSEEN": try sp(); return .unseen(try number32())
        case "PERMANENTFLAGS": try sp(); return .permanentFlags(try flagList())
        default:
            guard peek() == UInt8(ascii: " ") else { return .other(name: name, value: nil) }
            i += 1
            let start = i
            while let b = peek(), b != UInt8(ascii: "]"), isTextChar(b) { i += 1 }
            return .other(name: name, value: String(decoding: bytes[start..<i], as: UTF8.self))
        }
    }

    /// capability-data = "CAPABILITY" *(SP capability); capability = ("AUTH=" auth-type) / atom
    private mutating func capabilityList(until terminator: UInt8?) throws(IMAPParseError) -> Set<Capability> {
        var caps = Set<Capability>()
        while peek() == UInt8(ascii: " ") {
            i += 1
            if let t = terminator, peek() == t { break }  // trailing space before "]"
            if peek() == 0x0D || peek() == 0x0A { break }  // trailing space before CRLF
            caps.insert(Capability(try atomExcept(terminator ?? 0)))
        }
        return caps
    }

    // MARK: - Mailbox data

    /// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
    ///                [SP mbox-list-extended]          (RFC 5258)
    private mutating func mailboxList() throws(IMAPParseError) -> MailboxListing {
        let attributes = try flagList()
        try sp()
        var separator: Character?
        if try peekByte() == UInt8(ascii: "\"") {
            let s = try quoted()
            guard s.count == 1 else { throw error("a one-character hierarchy separator", at: i - s.count - 2) }
            separator = Character(Unicode.Scalar(s[0]))
        } else {
            try nilKeyword()
        }
        try sp()
        let name = try mailbox()
        var extended: [String: IMAPValue] = [:]
        if peek() == UInt8(ascii: " ") {
            i += 1
            // mbox-list-extended = "(" [mbox-list-extended-item *(SP mbox-list-extended-item)] ")"
            // mbox-list-extended-item = mbox-list-extended-item-tag SP tagged-ext-val
            try expect(UInt8(ascii: "("), "(")
            try enterList()
            while try peekByte() != UInt8(ascii: ")") {
                if !extended.isEmpty { try sp() }
                let tag = try astringText().uppercased()
                try sp()
                extended[tag] = try genericValue()
            }
            i += 1
            depth -= 1
        }
        return MailboxListing(attributes: attributes, separator: separator, name: name, extendedData: extended)
    }

    /// STATUS response: "STATUS" SP mailbox SP "(" [status-att-list] ")"
    /// status-att-list = status-att-val *(SP status-att-val); values number / number64 / NIL
    private mutating func statusResponse() throws(IMAPParseError) -> MailboxStatus {
        var status = MailboxStatus(name: try mailbox())
        try sp()
        try expect(UInt8(ascii: "("), "(")
        var first = true
        while try peekByte() != UInt8(ascii: ")") {
            if !first { try sp() }
            first = false
            let attribute = try atom().uppercased()
            try sp()
            if peekKeyword("NIL") { i += 3; continue }  // APPENDLIMIT NIL
            let value = try number64()
            switch attribute {
            case "MESSAGES": status.messages = value
            case "RECENT": status.recent = value
            case "UIDNEXT": status.uidNext = value
            case "UIDVALIDITY": status.uidValidity = value
            case "UNSEEN": status.unseen = value
            case "SIZE": status.size = value
            case "DELETED": status.deleted = value
            case "HIGHESTMODSEQ": status.highestModSeq = value
            default: status.other[attribute] = value
            }
        }
        i += 1
        // Some servers add a trailing space before CRLF.
        while peek() == UInt8(ascii: " ") { i += 1 }
        return status
    }

    /// quota-response = "QUOTA" SP quota-root-name SP quota-list          (RFC 9208 §9)
    /// quota-list = "(" quota-resource *(SP quota-resource) ")"
    /// quota-resource = resource-name SP resource-usage SP resource-limit
    /// An empty list "()" (RFC 2087 allowed it) is accepted: a root with no limits.
    private mutating func quotaResponse() throws(IMAPParseError) -> Quota {
        let root = try astringText()
        try sp()
        try expect(UInt8(ascii: "("), "(")
        var resources: [QuotaResource] = []
        while try peekByte() != UInt8(ascii: ")") {
            if !resources.isEmpty { try sp() }
            let name = try atom()
            try sp()
            let usage = try number64()
            try sp()
            let limit = try number64()
            resources.append(QuotaResource(name: name, usage: usage, limit: limit))
        }
        i += 1
        return Quota(root: root, resources: resources)
    }

    /// quotaroot-response = "QUOTAROOT" SP mailbox *(SP quota-root-name)
    private mutating func quotaRootResponse() throws(IMAPParseError) -> QuotaRoot {
        let name = try mailbox()
        var roots: [String] = []
        while peek() == UInt8(ascii: " ") {
            i += 1
            if peek() == 0x0D || peek() == 0x0A { break }
            roots.append(try astringText())
        }
        return QuotaRoot(mailbox: name, roots: roots)
    }

    /// id-response = "ID" SP id-params-list                                (RFC 2971)
    /// id-params-list = "(" *(string SP nstring) ")" / nil
    private mutating func idParams() throws(IMAPParseError) -> [IDParameter]? {
        if peekKeyword("NIL") { i += 3; return nil }
        try expect(UInt8(ascii: "("), "(")
        var params: [IDParameter] = []
        while try peekByte() != UInt8(ascii: ")") {
            if !params.isEmpty { try sp() }
            let key = String(decoding: try string(), as: UTF8.self)
            try sp()
            let value = try nstring().map { String(decoding: $0, as: UTF8.self) }
            params.append(IDParameter(key, value))
        }
        i += 1
        return params
    }

    /// flag-list = "(" [flag *(SP flag)] ")"; flag = "\" atom / atom (also mbx-list-flags)
    private mutating func flagList() throws(IMAPParseError) -> [String] {
        try expect(UInt8(ascii: "("), "(")
        var flags: [String] = []
        while try peekByte() != UInt8(ascii: ")") {
            if !flags.isEmpty { try sp() }
            var flag = ""
            if peek() == UInt8(ascii: "\\") {
                i += 1
                flag = "\\"
                if peek() == UInt8(ascii: "*") { i += 1; flags.append("\\*"); continue }
            }
            flag += try atom()
            flags.append(flag)
        }
        i += 1
        return flags
    }

    // MARK: - FETCH

    /// msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP (msg-att-dynamic / msg-att-static)) ")"
    private mutating func msgAtt() throws(IMAPParseError) -> [FetchAttribute] {
        try expect(UInt8(ascii: "("), "(")
        var attributes: [FetchAttribute] = []
        while try peekByte() != UInt8(ascii: ")") {
            if !attributes.isEmpty { try sp() }
            let name = try fetchAttributeName()
            try sp()
            switch name.uppercased() {
            case "RFC822.SIZE": attributes.append(.rfc822Size(try number64()))
            case "UID": attributes.append(.uid(try number32()))
            case "FLAGS": attributes.append(.flags(try flagList()))
            case "INTERNALDATE": attributes.append(.internalDate(String(decoding: try quoted(), as: UTF8.self)))
            case "MODSEQ":
                try expect(UInt8(ascii: "("), "(")
                let v = try number64()
                try expect(UInt8(ascii: ")"), ")")
                attributes.append(.modSeq(v))
            default:
                attributes.append(.other(name: name, value: try genericValue()))
            }
        }
        i += 1
        return attributes
    }

    /// A FETCH item name: an atom, with a section `[...]` (which may hold spaces and lists)
    /// and a partial `<n>` kept as part of the name: "BODY[HEADER.FIELDS (SUBJECT)]<0>".
    private mutating func fetchAttributeName() throws(IMAPParseError) -> String {
        let start = i
        while let b = peek(), isAtomChar(b), b != UInt8(ascii: "[") { i += 1 }
        if peek() == UInt8(ascii: "[") {
            while let b = peek(), b != UInt8(ascii: "]") {
                guard b != 0x0D, b != 0x0A else { throw error("] closing a section", at: i) }
                i += 1
            }
            try expect(UInt8(ascii: "]"), "]")
            if peek() == UInt8(ascii: "<") {
                while let b = peek(), b != UInt8(ascii: ">") {
                    guard isDigit(b) || b == UInt8(ascii: "<") else { throw error("a partial <n>", at: i) }
                    i += 1
                }
                try expect(UInt8(ascii: ">"), ">")
            }
        }
        guard i > start else { throw error("a FETCH item name", at: i) }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    // MARK: - Generic values

    /// A value we carry without interpreting: NIL / number / atom / string / "(" … ")".
    private mutating func genericValue() throws(IMAPParseError) -> IMAPValue {
        switch try peekByte() {
        case UInt8(ascii: "("):
            i += 1
            try enterList()
            var items: [IMAPValue] = []
            while try peekByte() != UInt8(ascii: ")") {
                if !items.isEmpty { try sp() }
                items.append(try genericValue())
            }
            i += 1
            depth -= 1
            return .list(items)
        case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "~"):
            return .string(try string())
        case let b where isDigit(b):
            let start = i
            while let d = peek(), isDigit(d) { i += 1 }
            if let d = peek(), isAtomChar(d) {  // an atom that starts with digits
                i = start
                return .atom(try atom())
            }
            i = start
            return .number(try number64())
        case UInt8(ascii: "\\"):
            i += 1
            return .atom("\\" + (try atom()))
        default:
            let a = try atom()
            return a.caseInsensitiveCompare("NIL") ? .nil : .atom(a)
        }
    }

    private mutating func enterList() throws(IMAPParseError) {
        depth += 1
        if depth > limits.maxNestingDepth { throw .nestingTooDeep(limit: limits.maxNestingDepth) }
    }

    // MARK: - Strings

    /// mailbox = "INBOX" / astring
    private mutating func mailbox() throws(IMAPParseError) -> MailboxName {
        MailboxName(bytes: try astring())
    }

    private mutating func astringText() throws(IMAPParseError) -> String {
        String(decoding: try astring(), as: UTF8.self)
    }

    /// astring = 1*ASTRING-CHAR / string
    private mutating func astring() throws(IMAPParseError) -> [UInt8] {
        let b = try peekByte()
        if b == UInt8(ascii: "\"") || b == UInt8(ascii: "{") || b == UInt8(ascii: "~") { return try string() }
        let start = i
        while let c = peek(), isAstringChar(c) { i += 1 }
        guard i > start else { throw error("an astring", at: i) }
        return Array(bytes[start..<i])
    }

    /// nstring = string / nil
    private mutating func nstring() throws(IMAPParseError) -> [UInt8]? {
        if peekKeyword("NIL") { i += 3; return nil }
        return try string()
    }

    /// string = quoted / literal
    private mutating func string() throws(IMAPParseError) -> [UInt8] {
        switch try peekByte() {
        case UInt8(ascii: "\""): return try quoted()
        case UInt8(ascii: "{"), UInt8(ascii: "~"): return try literal()
        default: throw error("a string", at: i)
        }
    }

    /// quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR = <any TEXT-CHAR except quoted-specials>
    /// / "\" quoted-specials  (8-bit bytes accepted, as RFC 6855 UTF-8 servers send them)
    private mutating func quoted() throws(IMAPParseError) -> [UInt8] {
        try expect(UInt8(ascii: "\""), "\"")
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw error("a closing quote", at: i) }
            switch b {
            case UInt8(ascii: "\""):
                i += 1
                return out
            case UInt8(ascii: "\\"):
                i += 1
                guard let e = peek(), e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") else {
                    throw error("\\\" or \\\\ after a backslash in a quoted string", at: i)
                }
                out.append(e)
                i += 1
            case 0x00, 0x0D, 0x0A:
                throw error("a closing quote", at: i)
            default:
                out.append(b)
                i += 1
            }
        }
    }

    /// literal = "{" number ["+"] "}" CRLF *CHAR8;  literal8 = "~{" number "}" CRLF *OCTET
    private mutating func literal() throws(IMAPParseError) -> [UInt8] {
        if peek() == UInt8(ascii: "~") { i += 1 }
        try expect(UInt8(ascii: "{"), "{")
        let n = try number64()
        if peek() == UInt8(ascii: "+") { i += 1 }
        try expect(UInt8(ascii: "}"), "}")
        try crlf()
        guard n <= UInt64(bytes.endIndex - i) else { throw error("\(n) literal octets", at: i) }
        let out = Array(bytes[i..<(i + Int(n))])
        i += Int(n)
        return out
    }

    // MARK: - Atoms and numbers

    /// tag = 1*<any ASTRING-CHAR except "+">
    private mutating func tagAtom() throws(IMAPParseError) -> String {
        let start = i
        while let c = peek(), isAstringChar(c), c != UInt8(ascii: "+") { i += 1 }
        guard i > start else { throw error("a tag, * or +", at: i) }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// atom = 1*ATOM-CHAR
    private mutating func atom() throws(IMAPParseError) -> String {
        try atomExcept(0)
    }

    private mutating func atomExcept(_ excluded: UInt8) throws(IMAPParseError) -> String {
        let start = i
        while let c = peek(), isAtomChar(c), c != excluded { i += 1 }
        guard i > start else { throw error("an atom", at: i) }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private mutating func number32() throws(IMAPParseError) -> UInt32 {
        let start = i
        let v = try number64()
        guard let n = UInt32(exactly: v) else { throw .numberOverflow(offset: start - bytes.startIndex) }
        return n
    }

    /// number64 = 1*DIGIT  ; unsigned 63-bit integer, 0 <= n <= 9,223,372,036,854,775,807
    /// (RFC 9051): anything larger is refused, never wrapped.
    private mutating func number64() throws(IMAPParseError) -> UInt64 {
        let start = i
        var value: UInt64 = 0
        while let d = peek(), isDigit(d) {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            if o1 || o2 || s > UInt64(Int64.max) { throw .numberOverflow(offset: start - bytes.startIndex) }
            value = s
            i += 1
        }
        guard i > start else { throw error("a number", at: i) }
        return value
    }

    // MARK: - Tokens

    private mutating func nilKeyword() throws(IMAPParseError) {
        guard peekKeyword("NIL") else { throw error("NIL", at: i) }
        i += 3
    }

    private func peekKeyword(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard bytes.endIndex - i >= n else { return false }
        for k in 0..<n where asciiUpper(bytes[i + k]) != word.utf8Start[k] { return false }
        // the keyword must end there (NIL, not NILS)
        if i + n < bytes.endIndex, isAtomChar(bytes[i + n]) { return false }
        return true
    }

    /// Text up to CRLF (text = 1*TEXT-CHAR, but empty allowed). Not consumed: the CRLF.
    private mutating func textToEOL() throws(IMAPParseError) -> String {
        let start = i
        while let b = peek(), b != 0x0D, b != 0x0A {
            guard b != 0 else { throw error("text without NUL", at: i) }
            i += 1
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// Everything to the end of the response (for responses carried as `other`).
    private mutating func restOfLine() -> [UInt8] {
        var end = bytes.endIndex
        if end > i, bytes[end - 1] == 0x0A { end -= 1 }
        if end > i, bytes[end - 1] == 0x0D { end -= 1 }
        var start = i
        if start < end, bytes[start] == UInt8(ascii: " ") { start += 1 }
        i = end
        return Array(bytes[start..<end])
    }

    private mutating func sp() throws(IMAPParseError) {
        try expect(UInt8(ascii: " "), "a space")
    }

    /// CRLF, or a bare LF (seen from some servers), and nothing after it.
    private mutating func crlf() throws(IMAPParseError) {
        if peek() == 0x0D { i += 1 }
        try expect(0x0A, "CRLF")
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(IMAPParseError) {
        guard peek() == byte else { throw error(what, at: i) }
        i += 1
    }

    private func peek() -> UInt8? { i < bytes.endIndex ? bytes[i] : nil }

    private func peekByte() throws(IMAPParseError) -> UInt8 {
        guard let b = peek() else { throw error("more data", at: i) }
        return b
    }

    private func error(_ expected: String, at index: Int) -> IMAPParseError {
        let from = max(bytes.startIndex, index - 24), to = min(bytes.endIndex, index + 24)
        var excerpt = ""
        for b in bytes[from..<to] {
            excerpt += (b >= 0x20 && b < 0x7F) ? String(Unicode.Scalar(b)) : (b == 0x0D ? "\\r" : b == 0x0A ? "\\n" : "·")
        }
        return .syntax(expected: expected, offset: index - bytes.startIndex, excerpt: "«\(excerpt)»")
    }
}

// MARK: - Character classes (RFC 3501 §9)

@inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

/// TEXT-CHAR = <any CHAR except CR and LF>
@inline(__always) func isTextChar(_ b: UInt8) -> Bool { b != 0x0D && b != 0x0A && b != 0 }

/// ATOM-CHAR = <any CHAR except atom-specials>
/// atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
@inline(__always) func isAtomChar(_ b: UInt8) -> Bool {
    guard b > 0x20, b < 0x7F else { return false }
    switch b {
    case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "*"),
         UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
        return false
    default:
        return true
    }
}

/// ASTRING-CHAR = ATOM-CHAR / resp-specials. List wildcards are accepted as well: servers
/// send them unquoted in mailbox names (RFC 3501 forbids it, but Dovecot/Cyrus do it).
/// 8-bit bytes too: some servers send raw UTF-8 names as atoms.
@inline(__always) func isAstringChar(_ b: UInt8) -> Bool {
    isAtomChar(b) || b == UInt8(ascii: "]") || b == UInt8(ascii: "%") || b == UInt8(ascii: "*") || b >= 0x80
}
