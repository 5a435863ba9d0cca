// Compiled into one module with Sources/SMTPClient/SMTPReply.swift by scripts/fuzz.

/// libFuzzer entry point for the SMTP reply parser. Besides "never crash, never hang" it
/// checks that the replies and errors are the same whether the bytes arrive at once or
/// split (the first byte picks the split point), and that a reply's extensions table can
/// always be built.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMTPReplyParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    var whole = SMTPReplyParser(maxLineLength: 512, maxLines: 16)
    whole.append(bytes)
    let a = drain(&whole)

    var split = SMTPReplyParser(maxLineLength: 512, maxLines: 16)
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    split.append(bytes[..<cut])
    var b = drain(&split)
    split.append(bytes[cut...])
    b += drain(&split)
    if a != b {
        fatalError("split at \(cut) changed the result:\n\(a)\nvs\n\(b)")
    }
    for case .reply(let reply) in a {
        precondition((200...599).contains(reply.code), "code out of range: \(reply.code)")
        _ = reply.extensions
    }
    return 0
}

private enum Outcome: Equatable {
    case reply(SMTPReply)
    case error(SMTPReplyError)
}

/// Replies until the parser needs more bytes; a line-length error is where a client
/// stops reading, so stop there too (the split run may meet it at another moment).
private func drain(_ parser: inout SMTPReplyParser) -> [Outcome] {
    var out: [Outcome] = []
    while true {
        do {
            guard let reply = try parser.next() else { return out }
            out.append(.reply(reply))
        } catch {
            out.append(.error(error))
            if case .lineTooLong = error { return out }
        }
    }
}
