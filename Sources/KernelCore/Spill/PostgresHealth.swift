import Logging
import Synchronization

/// The circuit breaker shared by every writer thread and the spill replayer, with the log lines
/// and the `kernel_pg_circuit_state` gauge that go with its transitions.
public final class PostgresHealth: Sendable {
    private let breaker: Mutex<CircuitBreaker>
    private let gauge: Atomic<Int>
    private let logger: Logger
    private let clock: @Sendable () -> UInt64

    /// - Parameters:
    ///   - threshold: `postgres.circuit_breaker_threshold`.
    ///   - timeoutSeconds: `postgres.circuit_breaker_timeout_seconds`.
    ///   - clock: monotonic nanoseconds (injectable for tests).
    public init(threshold: Int, timeoutSeconds: Double, logger: Logger,
                clock: (@Sendable () -> UInt64)? = nil) {
        breaker = Mutex(CircuitBreaker(threshold: threshold, timeoutNanos: UInt64(max(0, timeoutSeconds) * 1e9)))
        gauge = Atomic(0)
        self.logger = logger
        self.clock = clock ?? { UInt64(monotonicNanos()) }
    }

    /// How soon a server that said it is starting up is probed again.
    static let startingRetryNanos: UInt64 = 500_000_000

    /// The breaker's state now.
    public var state: CircuitBreaker.State {
        let now = clock()
        return breaker.withLock { $0.state(now: now) }
    }

    /// `kernel_pg_circuit_state`: 0 closed, 1 half-open, 2 open.
    public var gaugeValue: Int { state.gaugeValue }

    /// Whether a Postgres write may be attempted now.
    public func allowsAttempt() -> Bool {
        let now = clock()
        return breaker.withLock { $0.allowsAttempt(now: now) }
    }

    /// A plain connection probe succeeded while the breaker was open: half-open now (the next
    /// write or replay is the real test; its success closes the breaker).
    public func probeSucceeded() {
        let now = clock()
        let opened = breaker.withLock { b -> Bool in
            guard b.state(now: now) == .open else { return false }
            b.allowProbe(now: now)
            return true
        }
        if opened {
            logger.info("postgres answers again; circuit half-open, replaying the spill", metadata: [
                "event": "infra", "component": "postgres", "action": "circuit", "outcome": "half_open",
            ])
            gauge.store(CircuitBreaker.State.halfOpen.gaugeValue, ordering: .relaxed)
        }
    }

    /// A write (or probe) succeeded.
    public func recordSuccess() {
        let now = clock()
        let before = breaker.withLock { b in
            let s = b.state(now: now)
            b.recordSuccess()
            return s
        }
        if before != .closed {
            logger.info("postgres reachable again; circuit closed", metadata: [
                "event": "infra", "component": "postgres", "action": "circuit", "outcome": "closed",
            ])
        }
        gauge.store(0, ordering: .relaxed)
    }

    /// A write failed with a connectivity error. `serverStarting`: the server answered 57P03
    /// (starting up): probe again within a second rather than after the whole timeout.
    public func recordFailure(reasonCode: String, serverStarting: Bool = false) {
        let now = clock()
        let (before, after, failures) = breaker.withLock { b in
            let s = b.state(now: now)
            b.recordFailure(now: now, retryAfterNanos: serverStarting ? Self.startingRetryNanos : nil)
            return (s, b.state(now: now), b.consecutiveFailures)
        }
        if before != .open && after == .open {
            logger.error("postgres unreachable; circuit open, batches go to the spill", metadata: [
                "event": "infra", "component": "postgres", "action": "circuit", "outcome": "open",
                "reason_code": .string(reasonCode), "failures": "\(failures)",
            ])
        }
        gauge.store(after.gaugeValue, ordering: .relaxed)
    }
}
