#if canImport(Glibc)
import Glibc
#endif

/// Fatal-signal handlers that note which plugin call a fault happened in.
///
/// When a processor thread faults inside a plugin call, the handler writes the signal into that
/// thread's breadcrumb slot and lets the default action end the process at once: the Swift
/// runtime's backtracer, which spends seconds symbolicating, is skipped for a fault that is the
/// plugin's (the breadcrumb already says whose). A fault anywhere else goes to the handler that
/// was installed before (the backtracer), so the kernel's own bugs keep their backtraces.
///
/// The handler only loads and stores to the mapped breadcrumb, calls `gettid`, `sigaction` and
/// `raise`: all async-signal-safe.
public enum CrashSignals {
    static let fatal: [Int32] = [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS]

    nonisolated(unsafe) static var breadcrumb: UnsafeMutableRawPointer?
    /// The handlers installed before ours, by signal number (a fixed buffer: the handler must not
    /// touch Swift arrays, whose access may retain).
    nonisolated(unsafe) static let previous: UnsafeMutablePointer<sigaction> = {
        let p = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        p.initialize(repeating: sigaction(), count: 65)
        return p
    }()
    nonisolated(unsafe) static var installed = false

    /// Installs the handlers (once per process) and points them at `crumb`.
    static func register(_ crumb: CallBreadcrumb) {
        // Retained while registered: the handler may read it at any moment.
        let previousCrumb = breadcrumb
        breadcrumb = Unmanaged.passRetained(crumb).toOpaque()
        if let previousCrumb { Unmanaged<CallBreadcrumb>.fromOpaque(previousCrumb).release() }
        guard !installed else { return }
        installed = true
        _ = previous
        _ = currentThreadID()   // resolved here, never first in the handler
        for sig in fatal {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = crashHandler
            action.sa_flags = SA_SIGINFO | SA_ONSTACK
            sigemptyset(&action.sa_mask)
            var old = sigaction()
            sigaction(sig, &action, &old)
            previous[Int(sig)] = old
        }
    }

    static func unregister(_ crumb: CallBreadcrumb) {
        guard let current = breadcrumb, current == Unmanaged.passUnretained(crumb).toOpaque() else { return }
        breadcrumb = nil
        Unmanaged<CallBreadcrumb>.fromOpaque(current).release()
    }

    /// Gives the calling thread an alternate signal stack, so a stack overflow inside a plugin
    /// still runs the handler (on the overflowed stack it could not). Call once per processor
    /// thread; the stack lives as long as the thread.
    public static func installAlternateStack() {
        let size = 64 * 1024
        guard let memory = malloc(size) else { return }
        var stack = stack_t(ss_sp: memory, ss_flags: 0, ss_size: size)
        if sigaltstack(&stack, nil) != 0 { free(memory) }
    }

    private typealias GetTID = @convention(c) () -> Int32
    /// glibc's `gettid` is a GNU extension the Glibc module does not import; resolved once.
    nonisolated(unsafe) private static let getTID: GetTID? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gettid") else { return nil }
        return unsafeBitCast(symbol, to: GetTID.self)
    }()

    /// The calling thread's kernel thread id (async-signal-safe once resolved).
    static func currentThreadID() -> Int32 { getTID?() ?? -1 }

    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: return "SIGSEGV"
        case SIGBUS: return "SIGBUS"
        case SIGILL: return "SIGILL"
        case SIGFPE: return "SIGFPE"
        case SIGABRT: return "SIGABRT"
        case SIGTRAP: return "SIGTRAP"
        case SIGSYS: return "SIGSYS"
        case SIGKILL: return "SIGKILL"
        default: return "signal \(signal)"
        }
    }
}

private func crashHandler(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    if let raw = CrashSignals.breadcrumb {
        let crumb = Unmanaged<CallBreadcrumb>.fromOpaque(raw).takeUnretainedValue()
        if let slot = crumb.busySlot(tid: CrashSignals.currentThreadID()) {
            (slot + 12).storeBytes(of: UInt32(bitPattern: signal), as: UInt32.self)
            // The plugin's fault: die now with the signal (the supervisor restarts the kernel).
            var dfl = sigaction()
            dfl.__sigaction_handler.sa_handler = SIG_DFL
            sigaction(signal, &dfl, nil)
            raise(signal)
            return
        }
    }
    // Not in a plugin call: whoever handled it before (the Swift backtracer), else the default.
    var old = CrashSignals.previous[Int(signal)]
    sigaction(signal, &old, nil)
    if old.sa_flags & SA_SIGINFO != 0, let chained = old.__sigaction_handler.sa_sigaction {
        chained(signal, info, context)
        return
    }
    raise(signal)
}
