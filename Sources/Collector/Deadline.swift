/// Runs `body`, or gives nil once `seconds` have passed (the body is cancelled, which
/// closes its connection).
public enum Deadline {
    public static func run<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
        guard seconds > 0 else { return nil }
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
