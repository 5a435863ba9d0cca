/// Modified UTF-7, the encoding of mailbox names on the wire (RFC 3501 §5.1.3).
///
/// Printable US-ASCII except `&` stands for itself; `&` is `&-`; every other character is
/// UTF-16BE in a modified base64 (`,` instead of `/`, no padding) between `&` and `-`.
public enum ModifiedUTF7 {
    public enum DecodingError: Error, Equatable, Sendable {
        /// A byte outside printable US-ASCII appeared outside a base64 run (0-based offset).
        case nonASCIIByte(offset: Int)
        /// A `&` run was not closed by `-`.
        case unterminatedShift(offset: Int)
        /// A byte in a base64 run is not in the modified base64 alphabet.
        case invalidBase64(offset: Int)
        /// The run does not decode to whole, valid UTF-16 (odd byte count, non-zero pad bits,
        /// lone surrogate).
        case invalidUTF16(offset: Int)
        /// A run encodes printable ASCII, which must be written directly (the RFC forbids it,
        /// and it would let two wire names stand for one mailbox).
        case unnecessaryEncoding(offset: Int)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)
    private static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    /// Encodes a Unicode mailbox name for the wire.
    public static func encode(_ name: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        var pending: [UInt16] = []
        func flush() {
            guard !pending.isEmpty else { return }
            out.append(UInt8(ascii: "&"))
            var bytes: [UInt8] = []
            bytes.reserveCapacity(pending.count * 2)
            for unit in pending { bytes.append(UInt8(unit >> 8)); bytes.append(UInt8(unit & 0xFF)) }
            var i = 0
            while i < bytes.count {
                let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
                let n = bytes.count - i
                out.append(alphabet[Int(b0 >> 2)])
                out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
                if n > 1 { out.append(alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]) }
                if n > 2 { out.append(alphabet[Int(b2 & 0x3F)]) }
                i += 3
            }
            out.append(UInt8(ascii: "-"))
            pending.removeAll(keepingCapacity: true)
        }
        for scalar in name.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value <= 0x7E {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: UTF16.encode(scalar).map { Array($0) } ?? [])
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a wire mailbox name. Strict: anything the RFC does not allow is an error, so
    /// callers can fall back (for example to UTF-8 for servers that enabled UTF8=ACCEPT).
    public static func decode<Bytes: Collection>(_ wire: Bytes) throws(DecodingError) -> String
    where Bytes.Element == UInt8 {
        let bytes = Array(wire)
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            guard byte >= 0x20 && byte <= 0x7E else { throw .nonASCIIByte(offset: i) }
            guard byte == UInt8(ascii: "&") else {
                scalars.append(Unicode.Scalar(byte))
                i += 1
                continue
            }
            let runStart = i
            i += 1
            var bits: UInt32 = 0, bitCount = 0
            var units: [UInt16] = []
            var byteBuffer: [UInt8] = []
            while true {
                guard i < bytes.count else { throw .unterminatedShift(offset: runStart) }
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "-") { break }
                let v = decodeTable[Int(c)]
                guard v >= 0 else { throw .invalidBase64(offset: i - 1) }
                bits = bits << 6 | UInt32(v)
                bitCount += 6
                if bitCount >= 8 {
                    bitCount -= 8
                    byteBuffer.append(UInt8((bits >> UInt32(bitCount)) & 0xFF))
                    bits &= (1 << UInt32(bitCount)) - 1
                    if byteBuffer.count == 2 {
                        units.append(UInt16(byteBuffer[0]) << 8 | UInt16(byteBuffer[1]))
                        byteBuffer.removeAll(keepingCapacity: true)
                    }
                }
            }
            if units.isEmpty && byteBuffer.isEmpty && bitCount == 0 {
                // "&-" is a literal ampersand
                scalars.append("&")
                continue
            }
            guard byteBuffer.isEmpty, bits == 0, bitCount < 6, !units.isEmpty else {
                throw .invalidUTF16(offset: runStart)
            }
            var iterator = units.makeIterator()
            var decoder = UTF16()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let s):
                    if s.value >= 0x20 && s.value <= 0x7E { throw .unnecessaryEncoding(offset: runStart) }
                    scalars.append(s)
                case .emptyInput: break decoding
                case .error: throw .invalidUTF16(offset: runStart)
                }
            }
        }
        return String(scalars)
    }
}
