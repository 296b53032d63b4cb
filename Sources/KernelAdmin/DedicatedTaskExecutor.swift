import KernelRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A task executor backed by one dedicated OS thread.
///
/// The kernel's daemon is thread-based and calls `AdminServer.startBlocking()` from ordinary
/// threads — in tests, from threads of Swift's cooperative pool, which has as many threads as
/// cores (two here). Blocking a pool thread while the server's task waits for a pool thread
/// deadlocks once every pool thread is blocked. Running the server's tasks with this executor as
/// their preference keeps them off the pool entirely.
final class DedicatedTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is guarded by `lock`.
    private let lock = ConditionLock()
    private var jobs: [UnownedJob] = []

    init(name: String) {
        // The thread holds the executor for the life of the process (one per admin server).
        DedicatedThread.start(name: name) { [self] in runLoop() }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        lock.lock()
        jobs.append(unowned)
        lock.signal()
        lock.unlock()
    }

    /// Runs jobs forever (the executor lives as long as the process; one per admin server).
    private func runLoop() {
        while true {
            lock.lock()
            while jobs.isEmpty { lock.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            lock.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
