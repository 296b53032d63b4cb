#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM/SIGINT → a byte on a pipe. The handler only calls write(2), which is
/// async-signal-safe; the waiting thread reads the signal number back.
enum ShutdownSignal {
    nonisolated(unsafe) static var writeEnd: Int32 = -1
    nonisolated(unsafe) static var readEnd: Int32 = -1

    static func install() {
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
        // A parent may hand us a blocked mask (Foundation's Process does): unblock both here,
        // before any thread starts, so every thread created later inherits the unblocked mask.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Blocks until a shutdown signal arrives; returns its number.
    static func wait() -> Int32 {
        var byte: UInt8 = 0
        while true {
            let n = read(readEnd, &byte, 1)
            if n == 1 { return Int32(byte) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return SIGTERM }
        }
    }
}
