/// The Postgres circuit breaker (docs/operations.md, "Postgres outages: the spill"), as a pure state machine (time is passed in, so tests
/// drive it with a test clock).
///
/// - closed: attempts allowed; `threshold` consecutive failures open it.
/// - open: no attempts (batches go straight to the spill) until `timeout` has passed since the
///   last failure; then it is half-open.
/// - half-open: attempts allowed (they are the probes); a success closes it and resets the
///   count, a failure opens it again.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: String, Sendable {
        case closed, open, halfOpen = "half_open"

        /// The `kernel_pg_circuit_state` gauge value: 0 closed, 1 half-open, 2 open.
        public var gaugeValue: Int {
            switch self {
            case .closed: 0
            case .halfOpen: 1
            case .open: 2
            }
        }
    }

    public let threshold: Int
    public let timeoutNanos: UInt64
    public private(set) var consecutiveFailures = 0
    private var openedState = false
    /// When an open breaker turns half-open.
    private var halfOpenAtNanos: UInt64 = 0

    /// - Parameters:
    ///   - threshold: consecutive failures that open the breaker (≥ 1).
    ///   - timeoutNanos: time after the last failure before attempts are allowed again.
    public init(threshold: Int, timeoutNanos: UInt64) {
        self.threshold = max(1, threshold)
        self.timeoutNanos = timeoutNanos
    }

    /// The state at `now` (monotonic nanoseconds).
    public func state(now: UInt64) -> State {
        guard openedState else { return .closed }
        return now >= halfOpenAtNanos ? .halfOpen : .open
    }

    /// Whether a write may be attempted at `now` (closed or half-open).
    public func allowsAttempt(now: UInt64) -> Bool { state(now: now) != .open }

    /// Something outside the breaker (a connection probe) saw the server answer: half-open at
    /// `now`, without waiting for the timeout.
    public mutating func allowProbe(now: UInt64) {
        if openedState { halfOpenAtNanos = min(halfOpenAtNanos, now) }
    }

    /// A write succeeded: closed, count reset.
    public mutating func recordSuccess() {
        consecutiveFailures = 0
        openedState = false
    }

    /// A write failed for connectivity at `now`. `retryAfterNanos`: when the failure says the
    /// server will answer soon (it is starting up: 57P03), the next probe comes after this
    /// instead of the whole timeout, so a Postgres that is back is used within a second.
    public mutating func recordFailure(now: UInt64, retryAfterNanos: UInt64? = nil) {
        consecutiveFailures += 1
        halfOpenAtNanos = now &+ min(timeoutNanos, retryAfterNanos ?? timeoutNanos)
        // A failed probe re-opens at once; a closed breaker opens at the threshold.
        if openedState || consecutiveFailures >= threshold { openedState = true }
    }
}
