import ClientNetworking
import NIOSSL
import NIOTLS
import Testing

/// The rules both clients rely on, on plain values.
@Suite("transport guard")
struct TransportGuardTests {
    @Test("credentials need a completed handshake, or the plaintext opt-in")
    func credentials() throws {
        var guarded = TransportGuard(plaintextAllowed: false)
        #expect(throws: TransportGuard.Violation.credentialsWithoutTLS) { try guarded.checkCredentialWrite() }
        // Events other than the completed handshake change nothing.
        guarded.observe(userEvent: TLSUserEvent.shutdownCompleted)
        guarded.observe(userEvent: "handshakeCompleted")
        #expect(throws: TransportGuard.Violation.credentialsWithoutTLS) { try guarded.checkCredentialWrite() }
        guarded.observe(userEvent: TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        try guarded.checkCredentialWrite()
        try TransportGuard(plaintextAllowed: true).checkCredentialWrite()
    }

    @Test("STARTTLS: nothing unread before it, nothing buffered after its answer")
    func startTLS() throws {
        let guarded = TransportGuard(plaintextAllowed: false)
        try guarded.checkStartTLSWrite(bufferedBytes: 0, unreadAnswers: 0)
        #expect(throws: TransportGuard.Violation.injectedBeforeStartTLS) { try guarded.checkStartTLSWrite(bufferedBytes: 3, unreadAnswers: 0) }
        #expect(throws: TransportGuard.Violation.injectedBeforeStartTLS) { try guarded.checkStartTLSWrite(bufferedBytes: 0, unreadAnswers: 1) }
        try guarded.checkStartTLSAccepted(bufferedBytes: 0)
        #expect(throws: TransportGuard.Violation.dataAfterStartTLS) { try guarded.checkStartTLSAccepted(bufferedBytes: 1) }
    }

    @Test("a CA file that cannot be read is one clear error")
    func caFile() {
        #expect {
            _ = try TLSClientContext(caFile: "/nonexistent/ca.pem")
        } throws: { error in
            "\(error)".hasPrefix("cannot read CA file /nonexistent/ca.pem")
        }
    }
}
