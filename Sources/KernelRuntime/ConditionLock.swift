#if canImport(Glibc)
import Glibc
#endif

/// A mutex with condition variables, for the threads that block in C calls (hiredis, libpq,
/// file I/O) and hand work to each other.
///
/// The pthread objects live on the heap, allocated once: Swift gives no stable address to a
/// stored property passed with `&`, and a mutex or condition variable that moves is undefined
/// behaviour. Conditions wait on `CLOCK_MONOTONIC`, so a wall-clock step never stretches or cuts
/// a timeout.
public final class ConditionLock: @unchecked Sendable {
    // @unchecked: the mutex guards everything callers touch between lock and unlock; the
    // pointers themselves never change.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let conditionCount: Int

    /// A lock with `conditions` condition variables, numbered from 0.
    public init(conditions: Int = 1) {
        conditionCount = max(1, conditions)
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        self.conditions = .allocate(capacity: conditionCount)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        for i in 0..<conditionCount { pthread_cond_init(self.conditions + i, &attr) }
        pthread_condattr_destroy(&attr)
    }

    deinit {
        for i in 0..<conditionCount { pthread_cond_destroy(conditions + i) }
        conditions.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Runs `body` holding the lock.
    @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits on `condition`; call holding the lock (it is released while waiting).
    public func wait(_ condition: Int = 0) {
        pthread_cond_wait(conditions + condition, mutex)
    }

    /// Waits on `condition` until `deadline` (from `deadline(afterSeconds:)`); false on timeout.
    public func wait(_ condition: Int = 0, until deadline: timespec) -> Bool {
        var deadline = deadline
        return pthread_cond_timedwait(conditions + condition, mutex, &deadline) != ETIMEDOUT
    }

    public func signal(_ condition: Int = 0) { pthread_cond_signal(conditions + condition) }
    public func broadcast(_ condition: Int = 0) { pthread_cond_broadcast(conditions + condition) }

    /// The monotonic time `seconds` from now, for `wait(_:until:)`.
    public static func deadline(afterSeconds seconds: Double) -> timespec {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let ns = Int(max(0, seconds) * 1e9) + ts.tv_nsec
        ts.tv_sec += ns / 1_000_000_000
        ts.tv_nsec = ns % 1_000_000_000
        return ts
    }
}
