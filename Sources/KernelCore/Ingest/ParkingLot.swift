import Synchronization

/// Entries of typed families that no plugin serves right now (quarantined, refused, removed),
/// kept pending in Redis instead of being stored anywhere else (docs/plugins.md, "Parked
/// families"). A family that has (or had) a typed plugin is only ever stored in its typed table.
///
/// The processor parks an entry by leaving it unacknowledged and out of the in-flight set, and
/// records it here. Each reader keeps its shard's parked entries from looking abandoned (an
/// XCLAIM … JUSTID to itself resets their idle time without counting a delivery, so no peer
/// claims them) and, once routing has changed since they were parked, re-reads them from its
/// pending list: a family served again lands in its typed table, exactly once, from the entries
/// Redis kept.
public final class ParkingLot: Sendable {
    private struct Parked {
        var family: String
        /// The routing generation the entry was parked under.
        var generation: UInt64
    }

    private struct State {
        /// Shard (-1: the unsharded stream) → entry id → why.
        var byShard: [Int: [String: Parked]] = [:]
        /// Entries parked now, per family.
        var perFamily: [String: Int] = [:]
        /// Entries parked since start, per family (a re-read and parked again counts again).
        var totals: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Records entries of `family` parked under routing `generation`; true when the family had
    /// nothing parked before (the moment to log it).
    @discardableResult
    func park(family: String, generation: UInt64, entries: [(shard: Int?, id: String)]) -> Bool {
        state.withLock { s in
            let wasParked = (s.perFamily[family] ?? 0) > 0
            for e in entries {
                let key = e.shard ?? -1
                if let old = s.byShard[key]?[e.id] { s.perFamily[old.family, default: 1] -= 1 }
                s.byShard[key, default: [:]][e.id] = Parked(family: family, generation: generation)
                s.perFamily[family, default: 0] += 1
            }
            s.totals[family, default: 0] += entries.count
            return !wasParked
        }
    }

    /// The parked ids of a shard (for keeping them from looking abandoned).
    func ids(shard: Int?) -> [String] {
        state.withLock { Array(($0.byShard[shard ?? -1] ?? [:]).keys) }
    }

    /// When any entry of the shard was parked under a routing older than `generation`: forgets
    /// every parked entry of the shard (the reader re-reads them all from its pending list, and
    /// those still unserved are parked again) and returns true.
    func takeIfRoutingChanged(shard: Int?, generation: UInt64) -> Bool {
        state.withLock { s in
            let key = shard ?? -1
            guard let parked = s.byShard[key], parked.values.contains(where: { $0.generation < generation }) else { return false }
            for p in parked.values { s.perFamily[p.family, default: 1] -= 1 }
            s.perFamily = s.perFamily.filter { $0.value > 0 }
            s.byShard[key] = nil
            return true
        }
    }

    /// Families with entries parked now, with how many, sorted by name.
    public var parkedFamilies: [(family: String, entries: Int)] {
        state.withLock { s in s.perFamily.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    /// Entries parked since start, per family (`kernel_parked_events_total{family}`).
    public var totals: [String: Int] { state.withLock { $0.totals } }
}
