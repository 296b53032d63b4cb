import Foundation
import Synchronization

/// Samples the group's acknowledgement watermark every millisecond on its own thread and
/// connection, so each published entry gets an upper bound on when it was acknowledged (the
/// kernel acknowledges only after COMMIT).
final class AckWatcher: Sendable {
    struct Sample {
        var wallNanos: Int64
        var state: GroupState
    }

    private struct State {
        var samples: [Sample] = []
        var stopRequested = false
        var failure: String?
    }
    private let shared = Mutex(State())
    private let done = DispatchSemaphore(value: 0)
    private let address: String
    private let stream: String
    private let group: String

    init(address: String, stream: String, group: String) {
        self.address = address
        self.stream = stream
        self.group = group
        shared.withLock { $0.samples.reserveCapacity(60_000) }
    }

    func start() {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            do {
                let probe = try GroupProbe(address: address, stream: stream, group: group)
                while !shared.withLock({ $0.stopRequested }) {
                    let state = try probe.state()
                    // Taken after the reply: the entry was acknowledged no later than this.
                    let sample = Sample(wallNanos: BenchClock.wallNanos(), state: state)
                    shared.withLock { $0.samples.append(sample) }
                    BenchClock.sleep(seconds: 0.001)
                }
            } catch {
                shared.withLock { $0.failure = "\(error)" }
            }
        }
    }

    /// Stops sampling; returns the samples in time order.
    func stop() throws -> [Sample] {
        shared.withLock { $0.stopRequested = true }
        done.wait()
        let (samples, failure) = shared.withLock { ($0.samples, $0.failure) }
        if let failure { throw BenchError("ack watcher failed: \(failure)") }
        return samples
    }
}
