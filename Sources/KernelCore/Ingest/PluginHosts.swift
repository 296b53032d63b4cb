import KernelConfig
import KernelPlugins
import KernelRuntime
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One processor's plugin-host children (`plugins.isolation: process`), one per plugin instance
/// it calls, and what their deaths taught: strikes against the entries whose call was running.
///
/// A child that dies (a signal in the plugin) or is killed (one call past
/// `plugins.hang_timeout_ms`) takes nothing else with it: the kernel reads the child's breadcrumb,
/// charges a strike to the culprit entry (or, for a `normalize_batch` call, makes every entry of
/// the call a suspect to be retried one call each) and restarts the child after a backoff (10 ms,
/// doubling to 1 s while it keeps dying). An entry with `plugins.crash_strikes` strikes is
/// dead-lettered as `poison_message`.
///
/// The processor never sleeps through a backoff longer than the first step: after a first death
/// the rest of the batch is re-sent to a new child 10 ms later (a single bad entry costs no more);
/// while a child that keeps dying waits out a longer backoff, the unanswered entries of its family
/// are parked (left pending in Redis, `ParkingLot`) and the processor goes on with other
/// families. Once the backoff has passed, `takeRetryDue` tells the processor to have the parked
/// entries re-read.
///
/// Strikes and suspects are kept in memory: the kernel outlives its children, so there is no
/// restart to carry them across (in-process mode keeps them in Redis for that reason,
/// `CrashStrikes`).
final class PluginHosts: @unchecked Sendable {
    // @unchecked: owned and used by one processor thread.

    /// What `normalize` answers for each event.
    enum Answer {
        case normalized(Result<NormalizedEvent, NormalizeFailure>)
        /// Crashed its child `plugins.crash_strikes` times: dead-letter it with this detail.
        case poison(String)
        /// Not answered: the child is down for a backoff; park the entry (re-read later).
        case park
    }

    struct Settings: Sendable {
        var plugins: KernelConfig.Plugins
        var hangTimeoutNanos: Int64 { Int64(plugins.hangTimeoutMs) * 1_000_000 }

        func isolated(_ instance: PluginInstance) -> Bool {
            plugins.isolation(for: instance.descriptor.name) == .process
        }
    }

    /// The restart backoff: 10 ms after a first death, doubling to 1 s (with the runtime's jitter).
    static func restartBackoff() -> Backoff { Backoff(baseMs: 10, maxMs: 1000) }

    let settings: Settings
    let logger: Logger
    let metrics: PluginMetrics
    let clock: () -> Int64
    private var hosts: [ObjectIdentifier: Child] = [:]
    /// Entry reference → crashes its calls caused (cleared once it is answered or poisoned).
    private var strikes: [String: Int] = [:]
    /// Entries of a `normalize_batch` call that died: each is sent in a call of its own.
    private var suspects: Set<String> = []

    private struct Child {
        var host: PluginHostProcess?
        /// Deaths (and failed starts) since the last answered call (`attempt`), and the delay.
        var backoff = PluginHosts.restartBackoff()
        /// When the child may be started again (monotonic ns).
        var downUntil: Int64 = 0
        /// True while only the first backoff step is pending: the processor waits it out.
        var firstStep = false
        /// Entries were parked while it was down: have them re-read once `downUntil` passes.
        var parkedWhileDown = false
    }

    init(settings: Settings, logger: Logger, metrics: PluginMetrics, clock: @escaping () -> Int64 = monotonicNanos) {
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
    }

    func isolated(_ instance: PluginInstance) -> Bool { settings.isolated(instance) }

    /// Normalizes `inputs` (one family) in `instance`'s child, surviving its deaths; `refs` are
    /// the entries' references, for strikes, suspects and logs.
    func normalize(_ instance: PluginInstance, _ inputs: [EventInput], refs: [String], budgetNanos: Int64)
        -> (answers: [Answer], timing: CallTiming)
    {
        let key = ObjectIdentifier(instance)
        var answers = [Answer?](repeating: nil, count: inputs.count)
        var timing = CallTiming()
        var todo = Array(inputs.indices)
        while !todo.isEmpty {
            guard let host = child(for: instance) else {
                // Down for a backoff: the family waits in Redis, the processor goes on.
                hosts[key, default: Child()].parkedWhileDown = true
                for i in todo { answers[i] = .park }
                break
            }
            deathLoop: for call in calls(todo, refs: refs, capacity: host.capacity) {
                switch host.normalize(call.map { inputs[$0] }, budgetNanos: budgetNanos) {
                case .done(let results, let t):
                    if hosts[key]?.backoff.attempt != 0 { hosts[key]?.backoff.reset() }
                    for (j, i) in call.enumerated() { answers[i] = .normalized(results[j]) }
                    if !strikes.isEmpty || !suspects.isEmpty {
                        for i in call { strikes[refs[i]] = nil; suspects.remove(refs[i]) }
                    }
                    timing.totalNanos += t.totalNanos
                    timing.slowestNanos = max(timing.slowestNanos, t.slowestNanos)
                    timing.slowCalls += t.slowCalls
                case .died(let death):
                    died(instance, death, call: call, refs: refs, inputs: inputs, answers: &answers)
                    break deathLoop
                }
            }
            todo = todo.filter { answers[$0] == nil }
        }
        return (answers.map { $0! }, timing)
    }

    /// Parked entries whose child's backoff has passed: true once per such child, when the
    /// processor should have them re-read (`PluginRouter.bumpGeneration`).
    func takeRetryDue() -> Bool {
        let now = clock()
        var due = false
        for (key, child) in hosts where child.parkedWhileDown && now >= child.downUntil {
            hosts[key]?.parkedWhileDown = false
            due = true
        }
        return due
    }

    /// Charges a child's death: a strike to its culprit (poison at `crash_strikes`), or suspicion
    /// to every entry of a batch call.
    private func died(_ instance: PluginInstance, _ death: PluginHostProcess.ChildDeath, call: [Int], refs: [String],
                      inputs: [EventInput], answers: inout [Answer?]) {
        let key = ObjectIdentifier(instance)
        let delayMs = down(key)
        metrics.hostDeathsTotal.add(1, ordering: .relaxed)
        let d = instance.descriptor
        let family = inputs[call[0]].family
        let positions = death.positions.filter { $0 < call.count }.map { call[$0] }
        // Died outside any plugin call with one entry in flight: that entry is still the culprit.
        let culprit: Int? = death.singleCall ? positions.first : (call.count == 1 ? call[0] : nil)
        var metadata: Logger.Metadata = [
            "event": "infra", "component": "plugins", "reason_code": "plugin_crash", "plugin": .string(d.name),
            "version": .string(d.version.description), "family": .string(family), "cause": .string(death.cause),
        ]
        if let culprit {
            let ref = refs[culprit]
            let count = (strikes[ref] ?? 0) + 1
            metadata["entry"] = .string(ref)
            metadata["strikes"] = "\(count)"
            if count >= settings.plugins.crashStrikes {
                strikes[ref] = nil
                answers[culprit] = .poison("crashed its plugin-host process \(count) times (plugins.crash_strikes \(settings.plugins.crashStrikes)); last: plugin \(d.name) \(d.version) (family \(family)): \(death.cause)")
            } else {
                strikes[ref] = count
                suspects.insert(ref)
            }
        } else {
            let named = positions.isEmpty ? call : positions
            for i in named { suspects.insert(refs[i]) }
            metadata["suspects"] = "\(named.count)"
        }
        metadata["restart_in_ms"] = "\(delayMs)"
        logger.error("plugin-host process died; restarting it", metadata: metadata)
    }

    /// Marks the instance's child dead and down for the next backoff step; returns the delay.
    private func down(_ key: ObjectIdentifier) -> Int {
        var state = hosts[key] ?? Child()
        state.host = nil
        let delayMs = state.backoff.nextDelayMs()
        state.firstStep = state.backoff.attempt == 1
        state.downUntil = clock() + Int64(delayMs) * 1_000_000
        hosts[key] = state
        return delayMs
    }

    /// The instance's live child, started if needed: after a first death once its ~10 ms backoff
    /// has passed (the processor waits that long), after later deaths only once the backoff has
    /// passed (nil meanwhile). A failed start counts as a death.
    private func child(for instance: PluginInstance) -> PluginHostProcess? {
        let key = ObjectIdentifier(instance)
        let state = hosts[key] ?? Child()
        if let host = state.host { return host }
        let wait = state.downUntil - clock()
        if wait > 0 {
            guard state.firstStep else { return nil }
            usleep(UInt32(wait / 1000))
        }
        do {
            let host = try PluginHostProcess.spawn(instance: instance, hangTimeoutNanos: settings.hangTimeoutNanos)
            hosts[key, default: Child()].host = host
            return host
        } catch {
            let delayMs = down(key)
            logger.error("plugin-host process could not start; its family waits", metadata: [
                "event": "infra", "component": "plugins", "reason_code": "plugin_host_failed",
                "plugin": .string(instance.descriptor.name), "version": .string(instance.descriptor.version.description),
                "attempts": "\(hosts[key]?.backoff.attempt ?? 0)", "retry_in_ms": "\(delayMs)",
                "details": .string(error.description),
            ])
            return nil
        }
    }

    /// A suspect alone in its call, so the next death names it; the rest together, at most
    /// `capacity` per call.
    private func calls(_ todo: [Int], refs: [String], capacity: Int) -> [[Int]] {
        var out: [[Int]] = []
        var current: [Int] = []
        for i in todo {
            if !suspects.isEmpty && suspects.contains(refs[i]) { out.append([i]); continue }
            current.append(i)
            if current.count == capacity { out.append(current); current = [] }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Ends the children of instances no longer routed to (an upgrade, a removal): called when
    /// the routing generation changes.
    func retainOnly(_ instances: [PluginInstance]) {
        let keep = Set(instances.map(ObjectIdentifier.init))
        for key in hosts.keys where !keep.contains(key) {
            hosts[key]?.host?.terminate()
            hosts[key] = nil
        }
    }

    /// Ends every child (the processor is finishing).
    func stopAll() {
        for child in hosts.values { child.host?.terminate() }
        hosts = [:]
    }
}
