import Foundation
import MailGaugeCore
import Testing

@Suite("server health tally")
struct ServerHealthTallyTests {
    static func facts(_ endpoint: String, login: Double, expires: Double, capabilities: [String] = ["IMAP4REV1", "IDLE"]) -> ConnectionFacts {
        ConnectionFacts(endpoint: endpoint, tls: TLSSession(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", certificate: CertificateSummary(
            notAfter: Date(timeIntervalSince1970: expires), chainNotAfter: Date(timeIntervalSince1970: expires),
            subject: "CN=\(endpoint)", issuer: "CN=ca", subjectAlternativeNames: ["imap.example.com"])),
            loginSeconds: login, capabilities: capabilities)
    }

    @Test("per endpoint: nearest-rank quantiles, sum and count; the earliest certificate; TLS failures make it unverified")
    func tally() {
        var tally = ServerHealthTally()
        for i in 1...100 { tally.add(server: "corp", Self.facts("a:993", login: Double(i) / 100, expires: i == 50 ? 1000 : 5000)) }
        tally.add(server: "corp", Self.facts("b:993", login: 0.2, expires: 9000))
        tally.addTLSFailure(server: "corp", endpoint: "b:993", message: "certificate verify failed")
        let now = Date(timeIntervalSince1970: 100)
        let health = tally.health(at: now, previous: [:])
        #expect(health.map(\.endpoint) == ["a:993", "b:993"])
        let a = health[0]
        #expect(a.logins == 100 && abs(a.loginSecondsSum - 50.5) < 1e-9)
        #expect(a.loginQuantiles == [0.5: 0.5, 0.9: 0.9, 0.99: 0.99, 1: 1.0])
        #expect(a.tls?.certificate.chainNotAfter == Date(timeIntervalSince1970: 1000))  // the one that expires first
        #expect(a.verified && a.secondsToExpiry(now: now) == 900)
        #expect(!health[1].verified && health[1].tlsFailures == 1 && health[1].tlsFailure == "certificate verify failed")
        #expect(a.capabilitiesChangedAt == nil)
    }

    @Test("capabilities: a change is marked now and then carried; the same set keeps the old mark")
    func capabilityChange() {
        var tally = ServerHealthTally()
        tally.add(server: "corp", Self.facts("a:993", login: 0.1, expires: 5000, capabilities: ["IMAP4REV1"]))
        let t1 = Date(timeIntervalSince1970: 10), t0 = Date(timeIntervalSince1970: 5)
        let changed = tally.health(at: t1, previous: ["corp": ["a:993": (["IMAP4REV1", "QUOTA"], nil)]])
        #expect(changed[0].capabilitiesChangedAt == t1)
        let same = tally.health(at: t1, previous: ["corp": ["a:993": (["IMAP4REV1"], t0)]])
        #expect(same[0].capabilitiesChangedAt == t0)
    }

    @Test("a certificate's texts are bounded and made printable")
    func bounded() {
        let c = CertificateSummary(notAfter: Date(), chainNotAfter: Date(), subject: String(repeating: "A", count: 5000) + "\n",
                                   issuer: "CN=x\u{1B}[31m", subjectAlternativeNames: Array(repeating: "n", count: 500))
        #expect(c.subject.count <= 301 && !c.subject.contains("\n"))
        #expect(!c.issuer.contains("\u{1B}"))
        #expect(c.subjectAlternativeNames.count == 50)
    }
}
