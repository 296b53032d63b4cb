// The reconnect-with-backoff loop of every long-lived connection (the stream reader, the
// acknowledger, the revocation listener), and the pause between two write attempts.

/// One failure `retryWithBackoff` reports before it sleeps.
public struct RetryFailure<Failure: Error> {
    public let error: Failure
    /// The delay about to be slept.
    public let retryMs: Int
    /// True for the first failure since the loop started or since the attempt last called
    /// `connected()`: a caller that logs only when a working connection is lost checks it.
    public let isFirst: Bool
}

extension Backoff {
    /// Takes the next delay, hands it to `report` (to log with the failure), then sleeps it.
    public mutating func pause(sleep: (Int) -> Void = { sleepMs($0) }, _ report: (_ retryMs: Int) -> Void) {
        let delay = nextDelayMs()
        report(delay)
        sleep(delay)
    }
}

/// Runs `attempt` until it returns, pausing with `backoff`'s delays after each failure.
///
/// - `attempt` is handed `connected`, to call once its connection works again: the next failure
///   then waits the base delay again.
/// - After a failure, once `stop` is set the loop ends at once (no report, no sleep) and returns
///   false: shutdown is not a failure to log.
/// - Otherwise `failed` is called with the error and the delay (to drop the broken connection
///   and log), and the delay is slept with `sleep`.
///
/// Returns true once `attempt` returned.
@discardableResult
public func retryWithBackoff<Failure: Error>(
    _ backoff: Backoff, until stop: StopFlag, sleep: (Int) -> Void = { sleepMs($0) },
    failed: (RetryFailure<Failure>) -> Void, _ attempt: (_ connected: () -> Void) throws(Failure) -> Void
) -> Bool {
    var backoff = backoff
    while true {
        do throws(Failure) {
            try attempt { backoff.reset() }
            return true
        } catch {
            if stop.isSet { return false }
            let isFirst = backoff.attempt == 0
            backoff.pause(sleep: sleep) { failed(RetryFailure(error: error, retryMs: $0, isFirst: isFirst)) }
        }
    }
}

/// Sleeps `ms` milliseconds in slices of `sliceMs`, returning early once `stop` is set: a thread
/// waiting to reconnect still stops within a slice.
public func sleepMs(_ ms: Int, unlessSet stop: StopFlag, sliceMs: Int = 50) {
    let until = monotonicNanos() + Int64(ms) * 1_000_000
    while !stop.isSet && monotonicNanos() < until { sleepMs(sliceMs) }
}
