#if canImport(Glibc)
import Glibc
#endif

/// Starts a named OS thread for blocking work (hiredis, libpq, file writes), so blocking C calls
/// never occupy the Swift concurrency pool.
public enum DedicatedThread {
    private final class Box {
        let body: () -> Void
        let name: String
        init(_ body: @escaping () -> Void, name: String) { self.body = body; self.name = String(decoding: name.utf8.prefix(15), as: UTF8.self) }
    }

    /// Runs `body` on a new detached thread named `name` (truncated to 15 bytes, the Linux limit;
    /// kept for diagnostics).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body, name: name)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(thread)
    }
}
