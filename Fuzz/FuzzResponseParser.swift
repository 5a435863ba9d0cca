// Compiled into one module with Sources/IMAPCore by scripts/dev/fuzz (no import needed).

/// libFuzzer entry point. Besides "never crash, never hang", it checks one property: the
/// parser gives the same responses and errors whether the bytes arrive at once or split
/// (the first byte picks the split point), since a network can cut a stream anywhere.
/// It also checks that modified UTF-7 encoding of any valid UTF-8 input decodes back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponseParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = ResponseParser.Limits(maxLineLength: 8192, maxLiteralSize: 8192, maxResponseSize: 65536, maxNestingDepth: 32)

    var whole = ResponseParser(limits: limits)
    whole.append(bytes)
    let a = drain(&whole)

    var split = ResponseParser(limits: limits)
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    split.append(bytes[..<cut])
    var b = drain(&split)
    // A framing error is final: a client stops reading there, so does this check.
    if !endsInFramingError(b) {
        split.append(bytes[cut...])
        b += drain(&split)
    }
    if a != b {
        fatalError("split at \(cut) changed the result:\n\(a)\nvs\n\(b)")
    }

    _ = try? ModifiedUTF7.decode(bytes)
    if let text = String(validating: bytes, as: UTF8.self) {
        let wire = ModifiedUTF7.encode(text)
        guard (try? ModifiedUTF7.decode(Array(wire.utf8))) == text else { fatalError("mUTF-7 round trip failed for \(bytes)") }
    }
    return 0
}

private func endsInFramingError(_ outcomes: [Outcome]) -> Bool {
    guard case .error(let error)? = outcomes.last else { return false }
    switch error {
    case .syntax, .numberOverflow, .nestingTooDeep: return false
    default: return true
    }
}

/// Everything the parser yields until it needs more bytes or the stream is poisoned.
/// Compared as values: descriptions would differ on Set ordering alone.
private enum Outcome: Equatable {
    case response(Response)
    case error(IMAPParseError)
}

private func drain(_ parser: inout ResponseParser) -> [Outcome] {
    var out: [Outcome] = []
    while true {
        do {
            guard let response = try parser.next() else { return out }
            out.append(.response(response))
        } catch {
            out.append(.error(error))
            switch error {
            case .syntax, .numberOverflow, .nestingTooDeep: continue  // that response was consumed
            default: return out  // framing errors are final
            }
        }
    }
}
