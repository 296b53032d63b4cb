import KernelConfig
import KernelPlugins
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
/// the call a suspect to be retried one call each), restarts the child after a backoff (10 ms,
/// doubling to 1 s while it keeps dying) and re-feeds the entries of the batch not yet answered.
/// An entry with `plugins.crash_strikes` strikes is dead-lettered as `poison_message`. Only this
/// processor's current batch waits meanwhile; other processors, the control streams and the
/// admin API never notice.
///
/// Strikes are kept in memory: the kernel outlives its children, so there is no restart to carry
/// them across (in-process mode keeps them in Redis for that reason, `CrashStrikes`).
final class PluginHosts: @unchecked Sendable {
    // @unchecked: owned and used by one processor thread.

    /// What `normalize` answers for each event.
    enum Answer {
        case normalized(Result<NormalizedEvent, NormalizeFailure>)
        /// Crashed its child `plugins.crash_strikes` times: dead-letter it with this detail.
        case poison(String)
    }

    struct Settings: Sendable {
        var plugins: KernelConfig.Plugins
        var hangTimeoutNanos: Int64 { Int64(plugins.hangTimeoutMs) * 1_000_000 }

        func isolated(_ instance: PluginInstance) -> Bool {
            plugins.isolation(for: instance.descriptor.name) == .process
        }
    }

    static let firstBackoffNanos: Int64 = 10_000_000
    static let maxBackoffNanos: Int64 = 1_000_000_000
    /// Spawn attempts in a row before the batch gives up on the child (its entries are parked).
    static let spawnAttempts = 6

    let settings: Settings
    let logger: Logger
    let metrics: PluginMetrics
    private var hosts: [ObjectIdentifier: Child] = [:]
    /// Entry reference → crashes its calls caused (cleared once it is answered or poisoned).
    private var strikes: [String: Int] = [:]

    private struct Child {
        var host: PluginHostProcess?
        /// Deaths since the last answered call: sets the backoff before the next start.
        var deaths = 0
    }

    init(settings: Settings, logger: Logger, metrics: PluginMetrics) {
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
    }

    func isolated(_ instance: PluginInstance) -> Bool { settings.isolated(instance) }

    /// Normalizes `inputs` (one family) in `instance`'s child, surviving its deaths; `refs` are
    /// the entries' references, for strikes and logs. nil when no child could be started (the
    /// caller parks the entries).
    func normalize(_ instance: PluginInstance, _ inputs: [EventInput], refs: [String], budgetNanos: Int64)
        -> (answers: [Answer], timing: CallTiming)?
    {
        var answers = [Answer?](repeating: nil, count: inputs.count)
        var timing = CallTiming()
        var suspects = Set<Int>()
        var todo = Array(inputs.indices)
        while !todo.isEmpty {
            guard let host = child(for: instance) else { return nil }
            deathLoop: for call in calls(todo, suspects: suspects, capacity: host.capacity) {
                switch host.normalize(call.map { inputs[$0] }, budgetNanos: budgetNanos) {
                case .done(let results, let t):
                    hosts[ObjectIdentifier(instance)]?.deaths = 0
                    for (j, i) in call.enumerated() { answers[i] = .normalized(results[j]) }
                    if !strikes.isEmpty { for i in call { strikes[refs[i]] = nil } }
                    timing.totalNanos += t.totalNanos
                    timing.slowestNanos = max(timing.slowestNanos, t.slowestNanos)
                    timing.slowCalls += t.slowCalls
                case .died(let death):
                    died(instance, death, call: call, refs: refs, inputs: inputs, answers: &answers, suspects: &suspects)
                    break deathLoop
                }
            }
            todo = todo.filter { answers[$0] == nil }
        }
        return (answers.map { $0! }, timing)
    }

    /// Charges a child's death: a strike to its culprit (poison at `crash_strikes`), or suspicion
    /// to every entry of a batch call.
    private func died(_ instance: PluginInstance, _ death: PluginHostProcess.ChildDeath, call: [Int], refs: [String],
                      inputs: [EventInput], answers: inout [Answer?], suspects: inout Set<Int>) {
        let key = ObjectIdentifier(instance)
        hosts[key]?.host = nil
        hosts[key]?.deaths += 1
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
                suspects.insert(culprit)
            }
        } else {
            let named = positions.isEmpty ? call : positions
            suspects.formUnion(named)
            metadata["suspects"] = "\(named.count)"
        }
        logger.error("plugin-host process died; restarting it", metadata: metadata)
    }

    /// The instance's live child, started (after the backoff its deaths call for) if needed.
    private func child(for instance: PluginInstance) -> PluginHostProcess? {
        let key = ObjectIdentifier(instance)
        var state = hosts[key] ?? Child()
        if let host = state.host { return host }
        for attempt in 0..<Self.spawnAttempts {
            let deaths = state.deaths + attempt
            if deaths > 0 {
                let delay = min(Self.maxBackoffNanos, Self.firstBackoffNanos << min(deaths - 1, 20))
                usleep(UInt32(delay / 1000))
            }
            do {
                let host = try PluginHostProcess.spawn(instance: instance, hangTimeoutNanos: settings.hangTimeoutNanos)
                state.host = host
                hosts[key] = state
                return host
            } catch {
                logger.error("plugin-host process could not start", metadata: [
                    "event": "infra", "component": "plugins", "reason_code": "plugin_host_failed",
                    "plugin": .string(instance.descriptor.name), "version": .string(instance.descriptor.version.description),
                    "attempt": "\(attempt + 1)", "details": .string(error.description),
                ])
            }
        }
        hosts[key] = state
        return nil
    }

    /// A suspect alone in its call, so the next death names it; the rest together, at most
    /// `capacity` per call.
    private func calls(_ todo: [Int], suspects: Set<Int>, capacity: Int) -> [[Int]] {
        var out: [[Int]] = []
        var current: [Int] = []
        for i in todo {
            if suspects.contains(i) { out.append([i]); continue }
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
