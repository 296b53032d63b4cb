import Prometheus
import Synchronization

/// A monotonically increasing count. Callers push deltas (`increment(by:)`), or — for a component
/// that keeps its own cheap atomic totals — sync at scrape time with `advance(toTotal:)`.
public struct MetricCounter: Sendable {
    let counter: Counter
    /// The series identity (name and labels) in `book`.
    let key: String
    let book: SyncedTotals

    /// Moves the counter up to `total`, a running total kept elsewhere (e.g. `PipelineMetrics`):
    /// adds the difference since the last `advance` of this series. A total lower than the last
    /// one (a restarted source) adds nothing. Use either `advance` or `increment` on a series, not both.
    public func advance(toTotal total: Int) {
        let delta = book.delta(key: key, total: total)
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }

    /// Adds `delta` (ignored when ≤ 0: a counter never goes down).
    public func increment(by delta: Int = 1) {
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }

    /// Adds a fractional `delta` (e.g. bytes as a Double); ignored when ≤ 0.
    public func increment(by delta: Double) {
        if delta > 0 { counter.increment(by: delta) }
    }
}

/// A value that goes up and down (queue depth, file count, circuit state).
public struct MetricGauge: Sendable {
    let gauge: Gauge

    public func set(_ value: Double) { gauge.set(to: value) }
    public func set(_ value: Int) { gauge.set(to: Double(value)) }
    public func increment(by delta: Double = 1) { gauge.increment(by: delta) }
    public func decrement(by delta: Double = 1) { gauge.decrement(by: delta) }
}

/// A distribution over fixed buckets (seconds or sizes).
public struct MetricHistogram: Sendable {
    let histogram: ValueHistogram

    /// Records one observation.
    public func observe(_ value: Double) { histogram.record(value) }
    /// Records one observation given in nanoseconds, as seconds.
    public func observe(nanoseconds: Int64) { histogram.record(Double(nanoseconds) / 1e9) }
}

/// The last total pushed through `MetricCounter.advance(toTotal:)`, per series.
final class SyncedTotals: Sendable {
    private let totals = Mutex<[String: Int]>([:])

    func delta(key: String, total: Int) -> Int {
        totals.withLock { totals in
            let last = totals[key] ?? 0
            totals[key] = total
            return total > last ? total - last : 0
        }
    }
}
