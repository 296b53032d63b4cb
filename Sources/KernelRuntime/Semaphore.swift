/// A counting semaphore (Dispatch would pull in a second runtime model).
public final class Semaphore: Sendable {
    private let lock = ConditionLock()
    // Guarded by `lock`.
    nonisolated(unsafe) private var count = 0

    public init() {}

    public func signal() {
        lock.withLock {
            count += 1
            lock.signal()
        }
    }

    public func wait() {
        lock.withLock {
            while count == 0 { lock.wait() }
            count -= 1
        }
    }

    /// Waits up to `timeoutSeconds`; returns true if signalled.
    @discardableResult
    public func wait(timeoutSeconds: Double) -> Bool {
        let deadline = ConditionLock.deadline(afterSeconds: timeoutSeconds)
        return lock.withLock {
            while count == 0 {
                if !lock.wait(until: deadline) { return false }
            }
            count -= 1
            return true
        }
    }
}
