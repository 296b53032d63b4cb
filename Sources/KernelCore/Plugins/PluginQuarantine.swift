import KernelPlugins
import Synchronization

/// Counts each plugin instance's calls over budget in a sliding window and says when one has
/// gone over too often. Fed from processor threads (never blocks for long: one small lock).
final class PluginQuarantine: Sendable {
    /// Calls over budget within `windowNanos` that quarantine a plugin.
    let threshold: Int
    let windowNanos: Int64
    private let strikes = Mutex<[ObjectIdentifier: [Int64]]>([:])

    init(threshold: Int, windowSeconds: Double) {
        self.threshold = max(1, threshold)
        windowNanos = Int64(windowSeconds * 1e9)
    }

    /// Records `count` slow calls at `now`; true when the instance has now reached the threshold
    /// (returned once: its strikes are cleared).
    func record(_ instance: PluginInstance, count: Int, now: Int64) -> Bool {
        strikes.withLock { table in
            let key = ObjectIdentifier(instance)
            var times = table[key, default: []].filter { now - $0 <= windowNanos }
            times.append(contentsOf: repeatElement(now, count: min(count, threshold)))
            if times.count >= threshold {
                table[key] = nil
                return true
            }
            table[key] = times
            return false
        }
    }

    /// Forgets an instance (retired or quarantined).
    func forget(_ instance: PluginInstance) {
        _ = strikes.withLock { $0.removeValue(forKey: ObjectIdentifier(instance)) }
    }
}
