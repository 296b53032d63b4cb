#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// SIGTERM/SIGINT/SIGHUP → a byte on a pipe. The handler only calls write(2), which is
/// async-signal-safe; the thread blocked in `wait()` reads the signal number back. SIGTERM and
/// SIGINT end `wait()`; SIGHUP runs the reload handlers (`onReload`) on that thread and keeps
/// waiting, so a reload never stops the kernel.
public enum ShutdownSignal {
    nonisolated(unsafe) static var writeEnd: Int32 = -1
    nonisolated(unsafe) static var readEnd: Int32 = -1
    private static let reloadHandlers = Mutex<[@Sendable () -> Void]>([])

    public static func install() {
        guard readEnd < 0 else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        readEnd = fds[0]
        writeEnd = fds[1]
        _ = fcntl(writeEnd, F_SETFL, O_NONBLOCK)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(ShutdownSignal.writeEnd, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)
        sigaction(SIGHUP, &action, nil)
        // A write to a connection its peer closed (Redis restarted, a client gone) must be an
        // EPIPE error the caller handles, not a signal that ends the process: hiredis writes
        // with write(2), which raises SIGPIPE. A library linked in (swift-nio) ignores it too
        // today; the kernel says so itself rather than rely on that. Children started with
        // posix_spawn reset it.
        signal(SIGPIPE, SIG_IGN)
        // A parent may hand us a blocked mask (Foundation's Process does): unblock them here,
        // before any thread starts, so every thread created later inherits the unblocked mask.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Adds a handler run (on the thread blocked in `wait()`) for every SIGHUP. Handlers must
    /// return quickly: hand the work to another thread (e.g. `PluginLifecycle.reload`).
    public static func onReload(_ handler: @escaping @Sendable () -> Void) {
        reloadHandlers.withLock { $0.append(handler) }
    }

    /// Removes every reload handler (at shutdown, before the objects they reach go away).
    public static func removeReloadHandlers() {
        reloadHandlers.withLock { $0.removeAll() }
    }

    /// Blocks until a shutdown signal arrives; returns its number. SIGHUPs seen meanwhile run the
    /// reload handlers.
    public static func wait() -> Int32 {
        var byte: UInt8 = 0
        while true {
            let n = read(readEnd, &byte, 1)
            if n == 1 {
                if Int32(byte) == SIGHUP {
                    for handler in reloadHandlers.withLock({ $0 }) { handler() }
                    continue
                }
                return Int32(byte)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return SIGTERM }
        }
    }
}
