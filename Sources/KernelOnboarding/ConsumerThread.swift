#if canImport(Glibc)
import Glibc
#endif

/// A joinable OS thread for a blocking consumer loop (hiredis and libpq block; they must not run
/// on the Swift concurrency pool). KernelCore's `DedicatedThread` starts detached threads and is
/// out of reach from this module; a consumer must be joined on stop, so this one is joinable.
final class ConsumerThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private var thread: pthread_t?

    /// Starts `body` on a new thread. `name` is for diagnostics only.
    init(name: String, _ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = handle
    }

    /// Waits for the thread to finish. Idempotent.
    func join() {
        guard let thread else { return }
        self.thread = nil
        pthread_join(thread, nil)
    }
}

/// Sleeps `ms` milliseconds (resumes after signals).
func sleepMilliseconds(_ ms: Int) {
    var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
