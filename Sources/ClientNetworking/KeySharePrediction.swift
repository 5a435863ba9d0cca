import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// TLS 1.3 key-share prediction, per server and pass.
///
/// The standard offer carries two key shares, X25519MLKEM768 and X25519 (BoringSSL sends
/// one post-quantum and one classical share whatever the order): generating the
/// post-quantum one was 4 % of a pass's client CPU, wasted on every connection to a server
/// that takes X25519 (OpenSSL before 3.5 knows no ML-KEM). Once a handshake NIOSSL
/// verified shows that the server, offered both, chose a classical group, later
/// connections offer that group first and leave out the post-quantum one it declined: one
/// share, the one it takes, and the same outcome as the full offer. The group is covered
/// by the handshake transcript, so a meddler who altered it would have failed the
/// handshake, and nothing is learned from a failed one. One connection in
/// `fullOfferEvery` still makes the standard offer, so a server that starts accepting the
/// post-quantum group (or a pool of unlike servers behind one name) is seen; a server
/// whose choice keeps changing gets the standard offer for the rest of the pass.
final class KeySharePrediction: Sendable {
    /// swift-nio-ssl's standard offer: X25519MLKEM768, X25519, P-256, P-384.
    static let standardGroups: [NIOTLSCurve] = [.x25519_MLKEM768, .x25519, .secp256r1, .secp384r1]
    static let postQuantumGroups: Set<NIOTLSCurve> = [.x25519_MLKEM768]
    /// Changes of the learned group before prediction stops for the pass.
    static let maxChanges = 2
    static let fullOfferEvery = 64

    private struct State {
        var group: UInt16?
        var context: NIOSSLContext?
        var changes = 0
        var handedOut = 0
    }

    private let trusted: [NIOSSLCertificate]?
    private let state = Mutex(State())

    init(trusting trusted: [NIOSSLCertificate]?) {
        self.trusted = trusted
    }

    /// The predicting context for the next connection; nil: the standard offer.
    var context: NIOSSLContext? {
        state.withLock { state in
            guard let context = state.context else { return nil }
            state.handedOut &+= 1
            return state.handedOut % Self.fullOfferEvery == 0 ? nil : context
        }
    }

    var predictedGroup: UInt16? { state.withLock { $0.context == nil ? nil : $0.group } }

    func learn(_ group: UInt16) {
        let chosen = NIOTLSCurve(rawValue: group)
        let build = state.withLock { state -> Bool in
            guard state.group != group, state.changes <= Self.maxChanges else { return false }
            if state.group != nil { state.changes += 1 }
            state.group = group
            state.context = nil
            return state.changes <= Self.maxChanges && !Self.postQuantumGroups.contains(chosen)
        }
        guard build else { return }
        let offer = [chosen] + Self.standardGroups.filter { $0 != chosen && !Self.postQuantumGroups.contains($0) }
        // Built outside the lock (the system store takes milliseconds); kept only if no
        // other handshake changed the answer meanwhile. A failure leaves the standard offer.
        guard let context = try? ClientTLS.context(trusting: trusted, groups: offer) else { return }
        state.withLock { state in
            if state.group == group, state.changes <= Self.maxChanges { state.context = context }
        }
    }
}
