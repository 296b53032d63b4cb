import Foundation

/// Samples the group's acknowledgement watermark every millisecond on its own thread and
/// connection, so each published entry gets an upper bound on when it was acknowledged (the
/// kernel acknowledges only after COMMIT).
final class AckWatcher: @unchecked Sendable {
    // @unchecked: `samples`, `stopRequested` and `failure` are guarded by `lock`.
    struct Sample {
        var wallNanos: Int64
        var state: GroupState
    }

    private let lock = NSLock()
    private var samples: [Sample] = []
    private var stopRequested = false
    private var failure: String?
    private let done = DispatchSemaphore(value: 0)
    private let address: String
    private let stream: String
    private let group: String

    init(address: String, stream: String, group: String) {
        self.address = address
        self.stream = stream
        self.group = group
        samples.reserveCapacity(60_000)
    }

    func start() {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            do {
                let probe = try GroupProbe(address: address, stream: stream, group: group)
                while !lock.withLock({ stopRequested }) {
                    let state = try probe.state()
                    // Taken after the reply: the entry was acknowledged no later than this.
                    let sample = Sample(wallNanos: BenchClock.wallNanos(), state: state)
                    lock.withLock { samples.append(sample) }
                    BenchClock.sleep(seconds: 0.001)
                }
            } catch {
                lock.withLock { failure = "\(error)" }
            }
        }
    }

    /// Stops sampling; returns the samples in time order.
    func stop() throws -> [Sample] {
        lock.withLock { stopRequested = true }
        done.wait()
        return try lock.withLock {
            if let failure { throw BenchError("ack watcher failed: \(failure)") }
            return samples
        }
    }
}
