/// Exponential backoff with a cap and jitter, for every reconnect loop (reader, acknowledger,
/// writers, lookups, listeners).
public struct Backoff: Sendable {
    public let baseMs: Int
    public let maxMs: Int
    public private(set) var attempt = 0

    public init(baseMs: Int = 200, maxMs: Int = 5000) { self.baseMs = baseMs; self.maxMs = maxMs }

    public mutating func nextDelayMs() -> Int {
        defer { attempt += 1 }
        let exp = min(attempt, 16)
        let d = min(maxMs, baseMs << exp)
        // ×U[0.75, 1.25] jitter so several kernels do not reconnect in lockstep.
        return Int(Double(d) * Double.random(in: 0.75...1.25))
    }

    public mutating func reset() { attempt = 0 }
}
