@testable import IMAPCore
import Testing

@Suite("command encoder")
struct CommandEncoderTests {
    func wire(_ command: Command, _ options: CommandEncoder.Options = .init()) -> [String] {
        CommandEncoder(options: options).encode(command, tag: "t1").parts.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("atoms stay atoms, others are quoted with escapes")
    func quoting() {
        #expect(wire(.login(user: "alice", password: "s3cret")) == ["t1 LOGIN alice s3cret\r\n"])
        #expect(wire(.login(user: "alice@example.com", password: "pass word")) == ["t1 LOGIN alice@example.com \"pass word\"\r\n"])
        #expect(wire(.login(user: "a", password: #"c"a{r}o\l%"#)) == [#"t1 LOGIN a "c\"a{r}o\\l%""# + "\r\n"])
        #expect(wire(.login(user: "nil", password: "")) == ["t1 LOGIN \"nil\" \"\"\r\n"])
        #expect(wire(.status(MailboxName(decoded: "My Folder"), [.messages, .size])) == ["t1 STATUS \"My Folder\" (MESSAGES SIZE)\r\n"])
        #expect(wire(.status(MailboxName(decoded: "归档/2024"), [.messages, .size])) == ["t1 STATUS &X1JoYw-/2024 (MESSAGES SIZE)\r\n"])
        #expect(wire(.examine(MailboxName(decoded: "Projects \"Q3\" plan"))) == ["t1 EXAMINE \"Projects \\\"Q3\\\" plan\"\r\n"])
        #expect(wire(.examine(MailboxName(decoded: "a]b"))) == ["t1 EXAMINE a]b\r\n"])
    }

    @Test("8-bit and CR/LF go as literals: synchronising, or {n+} with LITERAL+ / LITERAL-")
    func literals() {
        #expect(wire(.login(user: "jörg", password: "x")) == ["t1 LOGIN {5}\r\n", "jörg x\r\n"])
        #expect(wire(.login(user: "jörg", password: "a\r\nb")) == ["t1 LOGIN {5}\r\n", "jörg {4}\r\n", "a\r\nb\r\n"])
        #expect(wire(.login(user: "jörg", password: "x"), .init(literalPlus: true)) == ["t1 LOGIN {5+}\r\njörg x\r\n"])
        #expect(wire(.login(user: "jörg", password: "x"), .init(literalMinus: true)) == ["t1 LOGIN {5+}\r\njörg x\r\n"])
        let big = String(repeating: "é", count: 2100)  // 4200 octets: over LITERAL-'s 4096
        #expect(wire(.login(user: "u", password: big), .init(literalMinus: true)).count == 2)
        let long = String(repeating: "a", count: 2000) + " "  // too long to quote
        #expect(wire(.login(user: "u", password: long)).count == 2)
    }

    @Test("LIST with RETURN options, STATUS, FETCH, ID, AUTHENTICATE")
    func shapes() {
        #expect(wire(.list(reference: MailboxName(bytes: []), pattern: "*", returnOptions: [.specialUse, .status([.messages, .size])]))
            == ["t1 LIST \"\" * RETURN (SPECIAL-USE STATUS (MESSAGES SIZE))\r\n"])
        #expect(wire(.list(reference: MailboxName(bytes: []), pattern: "%", returnOptions: [])) == ["t1 LIST \"\" %\r\n"])
        #expect(wire(.getQuotaRoot(.inbox)) == ["t1 GETQUOTAROOT INBOX\r\n"])
        #expect(wire(.getQuota(root: "User quota")) == ["t1 GETQUOTA \"User quota\"\r\n"])
        #expect(wire(.getQuota(root: "")) == ["t1 GETQUOTA \"\"\r\n"])
        #expect(wire(.fetch(sequenceSet: "1:*", items: ["RFC822.SIZE"])) == ["t1 FETCH 1:* (RFC822.SIZE)\r\n"])
        #expect(wire(.id([IDParameter("name", "mailgauge"), IDParameter("os", nil)])) == ["t1 ID (\"name\" \"mailgauge\" \"os\" NIL)\r\n"])
        #expect(wire(.id(nil)) == ["t1 ID NIL\r\n"])
        #expect(wire(.authenticate(mechanism: "PLAIN", initialResponse: "AGEAYg==")) == ["t1 AUTHENTICATE PLAIN AGEAYg==\r\n"])
        #expect(wire(.authenticate(mechanism: "PLAIN", initialResponse: "")) == ["t1 AUTHENTICATE PLAIN =\r\n"])
        #expect(wire(.authenticate(mechanism: "PLAIN", initialResponse: nil)) == ["t1 AUTHENTICATE PLAIN\r\n"])
    }

    @Test("what logs may show never includes a secret")
    func redaction() {
        #expect(Command.login(user: "alice", password: "hunter2").redactedDescription == "LOGIN alice <password redacted>")
        #expect(!Command.authenticate(mechanism: "PLAIN", initialResponse: "c2VjcmV0").redactedDescription.contains("c2VjcmV0"))
        #expect(Command.status(.inbox, [.messages]).redactedDescription == "STATUS INBOX (MESSAGES)")
        #expect(Command.login(user: "a", password: "b").carriesSecret)
    }

    @Test("SASL initial responses and base64")
    func sasl() {
        #expect(SASL.plain(authorizationID: "alice", authenticationID: "admin", password: "pw") == Array("alice\u{0}admin\u{0}pw".utf8))
        #expect(SASL.plain(authorizationID: nil, authenticationID: "bob", password: "x") == Array("\u{0}bob\u{0}x".utf8))
        #expect(SASL.xoauth2(user: "u@x", token: "tok") == Array("user=u@x\u{1}auth=Bearer tok\u{1}\u{1}".utf8))
        #expect(SASL.oauthBearer(user: "a,b=c", host: "h", port: 993, token: "t")
            == Array("n,a=a=2Cb=3Dc,\u{1}host=h\u{1}port=993\u{1}auth=Bearer t\u{1}\u{1}".utf8))
        for (plain, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")] {
            #expect(SASL.base64(Array(plain.utf8)) == encoded)  // RFC 4648 §10
        }
    }

    @Test("the encoder's output parses back with our own grammar where it is a response shape")
    func quotedRoundTrip() throws {
        // A quoted mailbox we send is read back identically when a server echoes it in LIST.
        for name in ["My Folder", "Projects \"Q3\" plan", "back\\slash", "a]b", "归档/2024"] {
            let mailbox = MailboxName(decoded: name)
            let command = String(decoding: CommandEncoder().encode(.examine(mailbox), tag: "t").flattened, as: UTF8.self)
            let argument = command.dropFirst("t EXAMINE ".count).dropLast(1)  // "\r\n" is one Character
            var parser = ResponseParser()
            parser.append(Array("* LIST () \"/\" \(argument)\r\n".utf8))
            guard case .untagged(.list(let listing))? = try parser.next() else { Issue.record("no LIST"); continue }
            #expect(listing.name == mailbox)
            #expect(listing.name.decoded == name)
        }
    }
}
