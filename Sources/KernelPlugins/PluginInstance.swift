import KernelPluginABI
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An initialised plugin: its state pointer and the calls into it. Calls are serialised unless the
/// plugin declared KP_PLUGIN_THREAD_SAFE. `destroy` runs when the instance is released; the shared
/// object stays mapped.
public final class PluginInstance: @unchecked Sendable {
    // @unchecked: `state` is only touched inside `gate` (or concurrently when the plugin said it is
    // thread-safe), and everything else is immutable.
    static let errorCapacity = 1024

    public let plugin: LoadedPlugin
    private let state: UnsafeMutableRawPointer?
    private let gate = Mutex(())
    /// The configuration `init` was given: a plugin-host child initialises its own copy with it.
    public let configJSON: String

    init(plugin: LoadedPlugin, state: UnsafeMutableRawPointer?, configJSON: String = "{}") {
        self.plugin = plugin
        self.state = state
        self.configJSON = configJSON
    }

    deinit {
        plugin.raw.destroy(state)
    }

    public var descriptor: PluginDescriptor { plugin.descriptor }

    /// Normalizes one event. The family is looked up by the event's `family` name.
    public func normalize(_ event: EventInput) -> Result<NormalizedEvent, NormalizeFailure> {
        normalizeBatch([event])[0]
    }

    /// Normalizes events of one family. Uses the plugin's `normalize_batch` when it has one.
    public func normalizeBatch(_ events: [EventInput]) -> [Result<NormalizedEvent, NormalizeFailure>] {
        normalizeBatch(events, budgetNanos: .max).results
    }

    /// Normalizes events of one family and times each call into the plugin against
    /// `budgetNanos` (per event: a `normalize_batch` call of n events has n budgets).
    ///
    /// `breadcrumb`: the calling thread's slot, already `prepare`d with the events' entries in
    /// order; each call into the plugin is marked in it, so a crash names its culprit.
    public func normalizeBatch(_ events: [EventInput], budgetNanos: Int64, breadcrumb: CallBreadcrumb.Slot? = nil)
        -> (results: [Result<NormalizedEvent, NormalizeFailure>], timing: CallTiming)
    {
        var timing = CallTiming()
        guard let first = events.first else { return ([], timing) }
        guard let family = plugin.descriptor.families.first(where: { $0.name == first.family }) else {
            return (events.map { .failure(NormalizeFailure(kind: .unsupportedVersion, message: "plugin \(plugin.descriptor.name) does not serve family \($0.family)")) }, timing)
        }
        precondition(events.allSatisfy { $0.family == first.family }, "normalizeBatch takes events of one family")
        let collector = OutputCollector(family: family, count: events.count)
        if plugin.descriptor.threadSafe {
            call(events, collector, budgetNanos, breadcrumb, &timing)
        } else {
            gate.withLock { _ in call(events, collector, budgetNanos, breadcrumb, &timing) }
        }
        collector.finish()
        let results = (0..<events.count).map { i -> Result<NormalizedEvent, NormalizeFailure> in
            if let failure = collector.failures[i] { return .failure(failure) }
            return .success(collector.outputs[i])
        }
        return (results, timing)
    }

    private func call(_ events: [EventInput], _ collector: OutputCollector, _ budgetNanos: Int64,
                      _ breadcrumb: CallBreadcrumb.Slot?, _ timing: inout CallTiming) {
        let raw = plugin.raw
        let unmanaged = Unmanaged.passUnretained(collector)
        var output = kp_output(api: BuilderAPI.table, builder: OpaquePointer(unmanaged.toOpaque()))
        withExtendedLifetime(collector) {
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: Self.errorCapacity) { err in
                if events.count > 1, let batch = raw.normalize_batch {
                    withCEvents(events) { pointers in
                        err.initialize(repeating: 0)
                        breadcrumb?.enter(index: nil, startedNanos: CallTiming.wallNow())
                        let started = CallTiming.cpuNow()
                        let status = batch(state, pointers.baseAddress, pointers.count, &output, err.baseAddress, err.count)
                        breadcrumb?.leave()
                        let scaled = budgetNanos.multipliedReportingOverflow(by: Int64(events.count))
                        let budget = scaled.overflow ? Int64.max : scaled.partialValue
                        let cpu = CallTiming.cpuNow() - started
                        timing.totalNanos = cpu
                        timing.record(cpu, budgetNanos: budget)
                        if status != KP_OK {
                            err[err.count - 1] = 0
                            let message = String(cString: err.baseAddress!)
                            // Every event: `fail` keeps what the plugin reported itself with
                            // `fail_event`, and lets this message replace a host refusal, as for
                            // a single `normalize` call (docs/plugins.md).
                            for i in 0..<events.count {
                                _ = collector.fail(i, status: status.rawValue, message: message)
                            }
                        }
                    }
                    return
                }
                // One arena of C events for the whole group, then one call per event.
                withCEvents(events) { pointers in
                    // All zeros before every call (re-zeroed only after a failure, which is rare),
                    // so a message the plugin leaves unterminated still ends in the buffer.
                    err.initialize(repeating: 0)
                    // Budgets are in CPU time, but the thread's CPU clock is a system call (the
                    // monotonic clock is not): each call is timed on the wall clock, and only a
                    // call whose wall time passed the budget has its CPU time checked, as the CPU
                    // used since a mark. The mark is taken just before a call when the previous
                    // call took budget/256 of wall time or more (a syscall is nothing beside such
                    // a call), else at most 64 calls earlier: the calls in between took under
                    // budget/256 each, so together they cannot add a quarter of the budget to the
                    // slow call's own CPU. (Marking every 64 calls alone charged a healthy
                    // plugin of 2 ms calls with up to 63 calls' CPU whenever a busy machine
                    // descheduled one call: quarantined on two busy cores.)
                    let groupStart = CallTiming.cpuNow()
                    var cpuMark = groupStart
                    let precise = max(1, budgetNanos / 256)
                    var previousWall: Int64 = 0
                    for i in 0..<events.count {
                        _ = collector.select(i)
                        if previousWall >= precise || i & 63 == 63 { cpuMark = CallTiming.cpuNow() }
                        let started = CallTiming.wallNow()
                        breadcrumb?.enter(index: i, startedNanos: started)
                        let status = raw.normalize(state, pointers[i], &output, err.baseAddress, err.count)
                        breadcrumb?.leave()
                        let wall = CallTiming.wallNow() - started
                        previousWall = wall
                        if wall > budgetNanos {
                            let now = CallTiming.cpuNow()
                            timing.record(now - cpuMark, budgetNanos: budgetNanos)
                            cpuMark = now
                        } else {
                            timing.slowestNanos = max(timing.slowestNanos, wall)
                        }
                        if status != KP_OK {
                            err[err.count - 1] = 0
                            _ = collector.fail(i, status: status.rawValue, message: String(cString: err.baseAddress!))
                            err.update(repeating: 0)
                        }
                    }
                    timing.totalNanos = CallTiming.cpuNow() - groupStart
                }
            }
        }
    }
}

/// How long the calls into a plugin took during one `normalizeBatch`.
public struct CallTiming: Sendable, Equatable {
    /// CPU time of the whole `normalizeBatch` (the plugin's calls and the host's work between them).
    public var totalNanos: Int64 = 0
    /// The slowest single call (CPU time for a call that passed its budget on the wall clock).
    public var slowestNanos: Int64 = 0
    /// Calls that ran past their budget.
    public var slowCalls = 0

    public init() {}

    mutating func record(_ nanos: Int64, budgetNanos: Int64) {
        slowestNanos = max(slowestNanos, nanos)
        if nanos > budgetNanos { slowCalls += 1 }
    }

    /// The calling thread's CPU time: a call is charged only for the time it ran, never for
    /// the time the thread waited for a core (on a busy machine that can be many times the
    /// call's own cost, and a healthy plugin was quarantined for it).
    public static func cpuNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Monotonic wall time: when a call started, for the hang watchdog.
    public static func wallNow() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// Builds C `kp_event` structs whose strings live for the duration of `body`.
private func withCEvents<R>(_ events: [EventInput], _ body: (UnsafeBufferPointer<UnsafePointer<kp_event>?>) -> R) -> R {
    // Each event's text fields are copied into one NUL-separated arena so pointers stay stable.
    var arena: [UInt8] = []
    var size = 0
    for e in events { size += e.family.utf8.count + e.payloadBytes.count + 2 * 37 + 2 }
    arena.reserveCapacity(size)
    var offsets: [(family: Int, event: Int, subject: Int, payload: Int)] = []
    offsets.reserveCapacity(events.count)
    for e in events {
        let family = arena.count; arena.append(contentsOf: e.family.utf8); arena.append(0)
        let event = arena.count; e.appendEventID(to: &arena); arena.append(0)
        let subject = arena.count; e.appendSubjectID(to: &arena); arena.append(0)
        let payload = arena.count; arena.append(contentsOf: e.payloadBytes); arena.append(0)
        offsets.append((family, event, subject, payload))
    }
    return arena.withUnsafeBufferPointer { buf in
        let base = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
        let structs = UnsafeMutablePointer<kp_event>.allocate(capacity: events.count)
        defer { structs.deallocate() }
        for (i, e) in events.enumerated() {
            let o = offsets[i]
            structs[i] = kp_event(
                struct_size: UInt32(MemoryLayout<kp_event>.size),
                family: base + o.family, schema_version: e.schemaVersion,
                event_id: base + o.event, subject_id: base + o.subject,
                ts_unix_ns: e.tsUnixNanos,
                payload_json: base + o.payload, payload_len: e.payloadBytes.count)
        }
        let pointers = UnsafeMutablePointer<UnsafePointer<kp_event>?>.allocate(capacity: events.count)
        defer { pointers.deallocate() }
        for i in 0..<events.count { pointers[i] = UnsafePointer(structs + i) }
        return body(UnsafeBufferPointer(start: pointers, count: events.count))
    }
}
