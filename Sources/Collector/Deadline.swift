import ClientNetworking

/// Runs `body`, or gives nil once `seconds` have passed (the body is cancelled, which
/// closes its connection). The timer is released as soon as the body ends (see LoopTimer).
public enum Deadline {
    public static func run<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
        guard seconds > 0 else { return nil }
        return await withTaskGroup(of: T?.self) { group in
            group.addTask { await body() }
            group.addTask {
                await LoopTimer.sleep(seconds: seconds)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
