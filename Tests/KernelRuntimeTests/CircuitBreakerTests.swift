import KernelRuntime
import Testing

/// The circuit breaker (docs/operations.md, "Postgres outages: the spill") as a state machine, driven by a test clock (nanoseconds).
@Suite("Circuit breaker")
struct CircuitBreakerTests {
    @Test func opensAtTheThresholdAndHalfOpensAfterTheTimeout() {
        var b = CircuitBreaker(threshold: 3, timeoutNanos: 30_000_000_000)
        #expect(b.state(now: 0) == .closed)
        b.recordFailure(now: 1)
        b.recordFailure(now: 2)
        #expect(b.state(now: 2) == .closed, "below the threshold")
        #expect(b.allowsAttempt(now: 2))
        b.recordFailure(now: 3)
        #expect(b.state(now: 3) == .open)
        #expect(!b.allowsAttempt(now: 3 + 29_999_999_999), "open until the timeout since the last failure")
        #expect(b.state(now: 3 + 30_000_000_000) == .halfOpen)
        #expect(b.allowsAttempt(now: 3 + 30_000_000_000))
    }

    /// A server that answered "the database system is starting up" (57P03) is probed again
    /// after `retryAfter`, not after the whole timeout: the breaker held the spill open 30 s
    /// longer than Postgres was down.
    @Test func aServerStartingUpIsProbedAgainSoon() {
        var b = CircuitBreaker(threshold: 1, timeoutNanos: 30_000_000_000)
        b.recordFailure(now: 0)
        #expect(b.state(now: 29_999_999_999) == .open)
        b.recordFailure(now: 30_000_000_000, retryAfterNanos: 500_000_000)   // the probe: starting up
        #expect(b.state(now: 30_400_000_000) == .open)
        #expect(b.state(now: 30_500_000_000) == .halfOpen, "probed again half a second later")
        b.recordFailure(now: 30_500_000_000)   // down again for real: the whole timeout
        #expect(b.state(now: 60_000_000_000) == .open)
        #expect(b.state(now: 60_500_000_000) == .halfOpen)
    }

    @Test func aFailedProbeReopensAndASuccessClosesAndResets() {
        var b = CircuitBreaker(threshold: 2, timeoutNanos: 100)
        b.recordFailure(now: 0)
        b.recordFailure(now: 0)
        #expect(b.state(now: 50) == .open)
        #expect(b.state(now: 100) == .halfOpen)
        b.recordFailure(now: 100)   // the probe failed
        #expect(b.state(now: 150) == .open, "one failure in half-open re-opens at once")
        #expect(b.state(now: 200) == .halfOpen)
        b.recordSuccess()
        #expect(b.state(now: 200) == .closed)
        #expect(b.consecutiveFailures == 0)
        b.recordFailure(now: 300)
        #expect(b.state(now: 300) == .closed, "the count starts again from zero")
    }

    /// Threshold 1, timeout 10 ms.
    @Test func thresholdOneTimeoutTenMilliseconds() {
        var b = CircuitBreaker(threshold: 1, timeoutNanos: 10_000_000)
        b.recordFailure(now: 1_000)
        #expect(b.state(now: 1_000) == .open)
        #expect(b.state(now: 1_000 + 9_999_999) == .open)
        #expect(b.state(now: 1_000 + 10_000_000) == .halfOpen)
        b.recordSuccess()
        #expect(b.state(now: 1_000 + 10_000_000) == .closed)
    }

    @Test func gaugeValuesAreClosedZeroHalfOpenOneOpenTwo() {
        #expect(CircuitBreaker.State.closed.gaugeValue == 0)
        #expect(CircuitBreaker.State.halfOpen.gaugeValue == 1)
        #expect(CircuitBreaker.State.open.gaugeValue == 2)
    }
}
