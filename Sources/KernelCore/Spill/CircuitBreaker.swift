/// The Postgres circuit breaker of SPEC §8, as a pure state machine (time is passed in, so tests
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
    private var lastFailureNanos: UInt64 = 0

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
        return now &- lastFailureNanos >= timeoutNanos ? .halfOpen : .open
    }

    /// Whether a write may be attempted at `now` (closed or half-open).
    public func allowsAttempt(now: UInt64) -> Bool { state(now: now) != .open }

    /// A write succeeded: closed, count reset.
    public mutating func recordSuccess() {
        consecutiveFailures = 0
        openedState = false
    }

    /// A write failed for connectivity at `now`.
    public mutating func recordFailure(now: UInt64) {
        consecutiveFailures += 1
        lastFailureNanos = now
        // A failed probe re-opens at once; a closed breaker opens at the threshold.
        if openedState || consecutiveFailures >= threshold { openedState = true }
    }
}
