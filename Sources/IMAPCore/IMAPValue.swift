/// A generic IMAP data item, for the parts of the grammar we carry without interpreting
/// (unknown FETCH attributes, LIST extended data, ID values): enough to skip them safely
/// and to show them in diagnostics.
public indirect enum IMAPValue: Sendable, Hashable {
    case `nil`
    case atom(String)
    case number(UInt64)
    case string([UInt8])
    case list([IMAPValue])

    /// The text of an atom or string, nil for anything else.
    public var text: String? {
        switch self {
        case .atom(let s): s
        case .string(let b): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }
}
