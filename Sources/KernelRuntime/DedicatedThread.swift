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
        pthread_detach(spawn(name: name, body))
    }

    /// Creates the named thread running `body`; the caller detaches or joins it.
    static func spawn(name: String, _ body: @escaping () -> Void) -> pthread_t {
        let box = Unmanaged.passRetained(Box(body, name: name)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            // Named so `top -H`, `perf` and /proc/<pid>/task/*/comm show each stage's CPU.
            DedicatedThread.setCurrentName(box.name)
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }

    private typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    /// glibc's `pthread_setname_np` is a GNU extension the Glibc module does not import.
    nonisolated(unsafe) private static let setName: SetName? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np") else { return nil }
        return unsafeBitCast(symbol, to: SetName.self)
    }()

    /// Names the calling thread (15 bytes at most, the Linux limit).
    public static func setCurrentName(_ name: String) {
        guard let setName else { return }
        _ = name.withCString { setName(pthread_self(), $0) }
    }
}

/// A joinable OS thread for a blocking loop that must be waited for on stop (a control-stream
/// consumer, a worker): `DedicatedThread` starts detached ones.
public final class JoinableThread: @unchecked Sendable {
    // @unchecked: `thread` is set in init and cleared by `join`, which one owner calls.
    private var thread: pthread_t?

    /// Starts `body` on a new thread named `name` (for `top -H`, `perf`, /proc).
    public init(name: String, _ body: @escaping () -> Void) {
        thread = DedicatedThread.spawn(name: name, body)
    }

    /// Waits for the thread to finish. Idempotent.
    public func join() {
        guard let thread else { return }
        self.thread = nil
        pthread_join(thread, nil)
    }
}
