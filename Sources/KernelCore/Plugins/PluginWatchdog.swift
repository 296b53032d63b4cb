import KernelPlugins
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Ends the process when one plugin call has run longer than `plugins.hang_timeout_ms` on the
/// wall clock (an endless loop, a deadlock inside the plugin): a plugin runs in the kernel's own
/// threads and cannot be interrupted safely, and a processor stuck in it stalls every family.
/// Before exiting it marks the call in the breadcrumb, so the restart charges the hung entry a
/// strike (`CrashStrikes`) and, after `plugins.crash_strikes` hangs, dead-letters it; the other
/// entries are re-read without penalty (docs/plugins.md, "When a plugin crashes or hangs").
///
/// Wall time on purpose: a hang is about progress, and the bound is generous (seconds) so a
/// busy machine cannot reach it with a healthy plugin. Budgets for slow-but-finishing calls are
/// in CPU time (`CallTiming`).
final class PluginWatchdog: Sendable {
    /// Exit status after a hang (EX_SOFTWARE): a failure, so `Restart=on-failure` restarts.
    static let exitStatus: Int32 = 70

    let breadcrumb: CallBreadcrumb
    let timeoutNanos: Int64
    let logger: Logger
    private let stopFlag = StopFlag()

    init(breadcrumb: CallBreadcrumb, timeoutMs: Int, logger: Logger) {
        self.breadcrumb = breadcrumb
        timeoutNanos = Int64(timeoutMs) * 1_000_000
        self.logger = logger
    }

    func start() {
        DedicatedThread.start(name: "dk-watchdog") { [self] in run() }
    }

    func stop() { stopFlag.set() }

    private func run() {
        let pollMs = Int(min(500, max(50, timeoutNanos / 1_000_000 / 10)))
        while !stopFlag.isSet {
            sleepMs(pollMs)
            for (slot, elapsed) in breadcrumb.busyCalls(nowNanos: CallTiming.wallNow()) where elapsed > timeoutNanos {
                // The same call still running (not a new one that started since the look).
                guard slot.isBusy else { continue }
                slot.markHang()
                let entry = slot.currentRef ?? "one of a batch call's entries"
                let line = "plugin call hung: plugin \(slot.plugin) \(slot.version), family \(slot.family), entry \(entry), running \(elapsed / 1_000_000) ms (plugins.hang_timeout_ms \(timeoutNanos / 1_000_000)); exiting so the restart charges that entry"
                logger.critical("plugin call hung; exiting", metadata: [
                    "event": "infra", "component": "plugins", "reason_code": "plugin_hang",
                    "plugin": .string(slot.plugin), "version": .string(slot.version), "family": .string(slot.family),
                    "entry": .string(entry), "elapsed_ms": "\(elapsed / 1_000_000)",
                    "hang_timeout_ms": "\(timeoutNanos / 1_000_000)",
                ])
                let bytes = Array(("kernel: " + line + "\n").utf8)
                _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                // Let the log thread write the line above, then go without running anything
                // else (the hung thread holds whatever it holds).
                sleepMs(300)
                _exit(Self.exitStatus)
            }
        }
    }
}
