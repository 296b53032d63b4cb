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
    // @unchecked: `jobs` and `running` are guarded by `mutex`/`cond`.
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var jobs: [UnownedJob] = []
    private var thread = pthread_t()

    init(name: String) {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let executor = Unmanaged<DedicatedTaskExecutor>.fromOpaque(raw!).takeRetainedValue()
            executor.runLoop()
            return nil
        }, box.toOpaque())
        pthread_detach(thread)
        _ = name
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        pthread_mutex_lock(&mutex)
        jobs.append(unowned)
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    /// Runs jobs forever (the executor lives as long as the process; one per admin server).
    private func runLoop() {
        while true {
            pthread_mutex_lock(&mutex)
            while jobs.isEmpty { pthread_cond_wait(&cond, &mutex) }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            pthread_mutex_unlock(&mutex)
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
