#if canImport(Glibc)
import Glibc
#endif
import KernelRuntime
import Synchronization

/// The systemd notification protocol (`Type=notify`), spoken directly rather than through
/// libsystemd so the kernel has no build dependency on it: one datagram per state change to the
/// AF_UNIX socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
///
/// The kernel sends `READY=1` once it serves (the unit is then "active"), `STOPPING=1` when it
/// begins to drain, and, when the unit sets `WatchdogSec=`, `WATCHDOG=1` at half of
/// `WATCHDOG_USEC` until it exits. Without `NOTIFY_SOCKET` (not started by systemd) every call
/// does nothing.
public final class ServiceNotifier: Sendable {
    /// The socket address bytes (`sun_path`; a leading NUL for the abstract namespace).
    private let address: [UInt8]?
    /// Half the watchdog timeout, in microseconds; nil when no watchdog is asked for.
    public let watchdogIntervalMicros: UInt64?
    private let watchdogRunning = Atomic<Bool>(false)
    private let watchdogStopped = Mutex<Bool>(false)

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String], pid: Int32 = getpid()) {
        if let socket = environment["NOTIFY_SOCKET"], socket.count > 1, socket.hasPrefix("/") || socket.hasPrefix("@") {
            var bytes = Array(socket.utf8)
            if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
            address = bytes
        } else {
            address = nil
        }
        // WATCHDOG_PID names the process the watchdog is meant for (another one may have
        // inherited the variables); absent means "the main process", which we are.
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == pid } ?? true
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0, forUs {
            // At least 1 ms: a tiny WATCHDOG_USEC must not turn the pings into a busy loop.
            watchdogIntervalMicros = max(usec / 2, 1000)
        } else {
            watchdogIntervalMicros = nil
        }
    }

    /// Whether a service manager listens (NOTIFY_SOCKET was set).
    public var isActive: Bool { address != nil }

    /// Sends one notification (`"READY=1"`, `"STOPPING=1\nSTATUS=draining"`). Returns whether it
    /// was sent; a failure is not fatal to the kernel, so callers only log it.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let address else { return false }
        var sockaddr = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: sockaddr.sun_path)
        guard address.count < capacity else { return false }
        sockaddr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &sockaddr.sun_path) { path in
            for (i, byte) in address.enumerated() { path[i] = byte }
        }
        // An abstract address is exactly its bytes; a path also counts its terminating NUL.
        let length = MemoryLayout<sa_family_t>.size + address.count + (address[0] == 0 ? 0 : 1)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &sockaddr) { pointer in
            pointer.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { raw in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), raw, socklen_t(length)) }
            }
        }
        return sent == bytes.count
    }

    /// Starts a thread sending `WATCHDOG=1` every half watchdog period until `stopWatchdog()`.
    /// It proves the process is alive and scheduled; a plugin call that hangs is the plugin
    /// watchdog's business (it exits the kernel, and systemd restarts it).
    public func startWatchdog() {
        guard let interval = watchdogIntervalMicros, isActive, !watchdogRunning.exchange(true, ordering: .acquiringAndReleasing) else {
            return
        }
        DedicatedThread.start(name: "sd-watchdog") { [self] in
            while !watchdogStopped.withLock({ $0 }) {
                notify("WATCHDOG=1")
                sleepMicros(interval)
            }
        }
    }

    /// Ends the watchdog pings (at exit: after this, only the process's end tells systemd).
    public func stopWatchdog() {
        watchdogStopped.withLock { $0 = true }
    }

    /// Sleeps in slices of at most 100 ms so `stopWatchdog` takes effect soon.
    private func sleepMicros(_ total: UInt64) {
        var left = total
        while left > 0 && !watchdogStopped.withLock({ $0 }) {
            let slice = min(left, 100_000)
            usleep(UInt32(slice))
            left -= slice
        }
    }
}
