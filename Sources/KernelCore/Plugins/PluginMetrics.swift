import Synchronization

/// Live counters of plugin normalization and of the plugin lifecycle, for the metrics endpoint
/// (plain atomics: the exporter reads them, nothing here depends on a metrics library).
public final class PluginMetrics: Sendable {
    /// Counters of one schema family, whichever plugin version serves it.
    public final class Family: Sendable {
        /// Events handed to the plugin.
        public let events = Atomic<Int>(0)
        /// Events the plugin refused (dead-lettered as `normalize_failed`).
        public let errors = Atomic<Int>(0)
        /// Time spent inside the plugin, nanoseconds (time per event = nanos / events).
        public let nanos = Atomic<Int>(0)
        /// Calls that ran past `plugins.call_budget_ms`.
        public let slowCalls = Atomic<Int>(0)
    }

    /// One family's counters, read at once.
    public struct FamilySnapshot: Sendable, Equatable {
        public var family: String
        public var events: Int
        public var errors: Int
        public var nanos: Int
        public var slowCalls: Int
    }

    private let families = Mutex<[String: Family]>([:])
    /// Plugins loaded while running (hot add and upgrade; not the start-up load).
    public let loadsTotal = Atomic<Int>(0)
    /// Upgrades: a higher version took over a plugin's families.
    public let upgradesTotal = Atomic<Int>(0)
    /// Plugin files removed while active: their families fell back to generic storage.
    public let removalsTotal = Atomic<Int>(0)
    /// Files refused while running (bad file, version not newer, family clash, …).
    public let refusedTotal = Atomic<Int>(0)
    /// Plugins quarantined for running past their call budget (the alert counter).
    public let quarantinesTotal = Atomic<Int>(0)
    /// Plugins quarantined now (the alert gauge: non-zero needs an operator).
    public let quarantinedPlugins = Atomic<Int>(0)
    /// Plugins serving now, and versions retired (still mapped, never called again).
    public let activePlugins = Atomic<Int>(0)
    public let retiredPlugins = Atomic<Int>(0)
    /// Rescans of the plugins directory triggered by SIGHUP or `reload(reason:)`.
    public let reloadsTotal = Atomic<Int>(0)
    /// Plugin-host children that died or were killed for a hang (`plugins.isolation: process`).
    public let hostDeathsTotal = Atomic<Int>(0)

    public init() {}

    /// The counters of `family`, created on first use.
    public func family(_ name: String) -> Family {
        families.withLock { table in
            if let known = table[name] { return known }
            let created = Family()
            table[name] = created
            return created
        }
    }

    /// Every family's counters, sorted by family name.
    public var familySnapshots: [FamilySnapshot] {
        let table = families.withLock { $0 }
        return table.map { name, f in
            FamilySnapshot(family: name, events: f.events.load(ordering: .relaxed), errors: f.errors.load(ordering: .relaxed),
                           nanos: f.nanos.load(ordering: .relaxed), slowCalls: f.slowCalls.load(ordering: .relaxed))
        }.sorted { $0.family < $1.family }
    }
}
