/// Exponential backoff with a cap, for reconnect loops.
struct Backoff {
    let baseMs: Int
    let maxMs: Int
    private(set) var attempt = 0

    init(baseMs: Int = 200, maxMs: Int = 5000) { self.baseMs = baseMs; self.maxMs = maxMs }

    mutating func nextDelayMs() -> Int {
        defer { attempt += 1 }
        let exp = min(attempt, 16)
        let d = min(maxMs, baseMs << exp)
        // ×U[0.75, 1.25] jitter so several kernels do not reconnect in lockstep.
        return Int(Double(d) * Double.random(in: 0.75...1.25))
    }

    mutating func reset() { attempt = 0 }
}
