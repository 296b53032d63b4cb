import KernelPlugins
import Synchronization

/// The plugin registry the pipeline routes through. Swapped as a whole (plugin hot add, upgrade,
/// removal, quarantine), read once per chunk; a processor that sees a new generation cuts its
/// open batch first, so a switch takes effect exactly at a batch boundary.
public final class PluginRouter: Sendable {
    private let current: Mutex<(registry: PluginRegistry, generation: UInt64)>
    /// Per-family normalization counters and lifecycle counters.
    public let metrics = PluginMetrics()
    private let budgetNanos = Atomic<Int64>(50_000_000)
    private let slowCallHandler = Mutex<(@Sendable (SlowPluginCall) -> Void)?>(nil)
    private let attached = Mutex<PluginLifecycle?>(nil)
    private let typed = Mutex<Set<String>>([])
    /// Entries of typed families no plugin serves right now (see `ParkingLot`).
    public let parking = ParkingLot()

    public init(_ registry: PluginRegistry) {
        current = Mutex((registry, 0))
        markTyped(registry.servedFamilies.map(\.family).filter(\.isTyped).map(\.name))
    }

    public var registry: PluginRegistry { current.withLock { $0.registry } }

    /// The registry and its generation (incremented by every `replace`).
    public var snapshot: (registry: PluginRegistry, generation: UInt64) { current.withLock { $0 } }

    /// A new generation with the same registry: readers re-read parked entries (a plugin-host
    /// child is back after its backoff), processors cut their open batch.
    func bumpGeneration() {
        current.withLock { $0.generation &+= 1 }
    }

    public func replace(_ registry: PluginRegistry) {
        markTyped(registry.servedFamilies.map(\.family).filter(\.isTyped).map(\.name))
        current.withLock { $0 = (registry, $0.generation &+ 1) }
    }

    /// Families that have or had a typed plugin (their `md_<family>` table exists): while no
    /// plugin serves one, its events are parked, never stored in the generic table.
    public func markTyped(_ families: some Sequence<String>) {
        typed.withLock { $0.formUnion(families) }
    }

    public func isTyped(family: String) -> Bool { typed.withLock { $0.contains(family) } }

    /// `plugins.call_budget_ms`, in nanoseconds: one normalize call running longer is reported.
    public var callBudgetNanos: Int64 { budgetNanos.load(ordering: .relaxed) }

    public func setCallBudget(milliseconds: Int) {
        budgetNanos.store(Int64(max(1, milliseconds)) * 1_000_000, ordering: .relaxed)
    }

    /// Who hears about calls over budget (the plugin lifecycle, to quarantine repeat offenders).
    /// Called on a processor thread: the handler must not block.
    public func onSlowCall(_ handler: (@Sendable (SlowPluginCall) -> Void)?) {
        slowCallHandler.withLock { $0 = handler }
    }

    /// The lifecycle keeping this router in step with the plugins directory, while it runs.
    public var lifecycle: PluginLifecycle? { attached.withLock { $0 } }

    func attach(_ lifecycle: PluginLifecycle?) { attached.withLock { $0 = lifecycle } }

    func reportSlowCall(_ call: SlowPluginCall) {
        let handler = slowCallHandler.withLock { $0 }
        handler?(call)
    }
}

/// Calls of one plugin that ran past the budget during one normalize batch.
public struct SlowPluginCall: Sendable {
    public let instance: PluginInstance
    public let family: String
    public let timing: CallTiming
    public let budgetNanos: Int64
}
