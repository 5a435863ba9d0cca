/// Per-server connection slots. On `[LIMIT]` a server's width is halved for the rest of
/// the run: the server said we are too many.
actor ConnectionGate {
    private var widths: [String: Int]
    private var inUse: [String: Int] = [:]
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(widths: [String: Int]) {
        self.widths = widths
    }

    func acquire(_ server: String) async {
        let width = widths[server] ?? 8
        if inUse[server, default: 0] < width {
            inUse[server, default: 0] += 1
            return
        }
        await withCheckedContinuation { waiters[server, default: []].append($0) }
    }

    func release(_ server: String) {
        if var queue = waiters[server], !queue.isEmpty, inUse[server, default: 0] <= widths[server] ?? 8 {
            let next = queue.removeFirst()
            waiters[server] = queue
            next.resume()  // the slot passes to the waiter
        } else {
            inUse[server, default: 0] -= 1
        }
    }

    func narrow(_ server: String) {
        widths[server] = max(1, (widths[server] ?? 8) / 2)
    }
}
