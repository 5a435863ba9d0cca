/// SASL initial responses for the mechanisms mailgauge speaks. Pure byte building, so the
/// exact wire form is unit-tested; the client only base64-encodes and sends them.
public enum SASL {
    /// PLAIN (RFC 4616): `authzid NUL authcid NUL password`. With Dovecot master users the
    /// authzid is the mailbox owner and authcid the master user.
    public static func plain(authorizationID: String?, authenticationID: String, password: String) -> [UInt8] {
        Array((authorizationID ?? "").utf8) + [0] + Array(authenticationID.utf8) + [0] + Array(password.utf8)
    }

    /// XOAUTH2 (Google/Microsoft): `user=U ^A auth=Bearer T ^A ^A`.
    public static func xoauth2(user: String, token: String) -> [UInt8] {
        Array("user=\(user)\u{1}auth=Bearer \(token)\u{1}\u{1}".utf8)
    }

    /// OAUTHBEARER (RFC 7628 §3.1): GS2 header with the authzid, then host, port and token.
    public static func oauthBearer(user: String, host: String, port: Int, token: String) -> [UInt8] {
        // saslname escaping: "=" as "=3D", "," as "=2C"
        let authzid = user.map { $0 == "=" ? "=3D" : $0 == "," ? "=2C" : String($0) }.joined()
        return Array("n,a=\(authzid),\u{1}host=\(host)\u{1}port=\(port)\u{1}auth=Bearer \(token)\u{1}\u{1}".utf8)
    }
}

extension SASL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 (RFC 4648 §4) with padding, as SASL in IMAP uses.
    public static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i], b1 = n > 1 ? bytes[i + 1] : 0, b2 = n > 2 ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(n > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
