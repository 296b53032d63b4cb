import KernelSpill
import KernelStore

/// A batch on its way from a processor to a writer: the events the store writes, and at the same
/// index where each came from. The store names refused events by their index in the batch it was
/// given (`WriteReport`), so the writer finds the entry to acknowledge or dead-letter at that
/// index here (docs/architecture.md, "Storage"). Two arrays, not one of pairs: the events go to
/// the store as they are, with no copy of each event into an array of its own.
struct PendingBatch: Sendable {
    var events: [StoredEvent] = []
    /// `origins[i]` is where `events[i]` came from.
    var origins: [EventOrigin] = []

    var count: Int { events.count }
    var isEmpty: Bool { events.isEmpty }

    /// Appends `other`: its event `i` becomes this batch's event `count + i` (before the append).
    mutating func append(contentsOf other: PendingBatch) {
        events.append(contentsOf: other.events)
        origins.append(contentsOf: other.origins)
    }
}
