import KernelEvents
import Synchronization

/// Distinct producers and subjects whose events were accepted recently, for the gauges
/// `kernel_producer_active` and `kernel_subject_active` (distinct in the last 5 minutes). A
/// processor reports each chunk's distinct ids once (one lock per chunk, not per event).
public final class ActivityTracker: Sendable {
    public static let windowSeconds = 300.0
    private struct Seen {
        var producers: [EventUUID: Double] = [:]
        var subjects: [EventUUID: Double] = [:]
    }
    private let seen = Mutex(Seen())

    public init() {}

    func record(producers: [EventUUID], subjects: [EventUUID], now: Double) {
        guard !producers.isEmpty || !subjects.isEmpty else { return }
        seen.withLock { s in
            for p in producers { s.producers[p] = now }
            for id in subjects { s.subjects[id] = now }
        }
    }

    /// Distinct producers and subjects seen within the window before `now`; older ones are
    /// forgotten.
    public func active(now: Double) -> (producers: Int, subjects: Int) {
        seen.withLock { s in
            let oldest = now - Self.windowSeconds
            s.producers = s.producers.filter { $0.value >= oldest }
            s.subjects = s.subjects.filter { $0.value >= oldest }
            return (s.producers.count, s.subjects.count)
        }
    }
}
