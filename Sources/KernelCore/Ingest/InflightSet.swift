import Synchronization

/// Entry references (`StreamEntry.ref`) handed to the pipeline and not yet acknowledged. The reader consults it when it
/// re-reads its pending list after a reconnect, so an entry still being processed is not
/// processed twice; shutdown waits for it to empty.
public final class InflightSet: Sendable {
    private let ids = Mutex<Set<String>>([])

    public init() {}

    /// Adds ids; returns those that were not already in flight.
    public func admit(_ entries: [StreamEntry]) -> [StreamEntry] {
        ids.withLock { set in
            var refused: [Int] = []
            // Through a buffer pointer: enumerating the array copied every entry.
            entries.withUnsafeBufferPointer { entries in
                for i in entries.indices where !set.insert(entries[i].ref).inserted { refused.append(i) }
            }
            // The usual case hands the array back as it is (filtering copied every entry).
            guard !refused.isEmpty else { return entries }
            var kept = entries
            for i in refused.reversed() { kept.remove(at: i) }
            return kept
        }
    }

    public func contains(_ ref: String) -> Bool {
        ids.withLock { $0.contains(ref) }
    }

    public func release(_ entryIDs: [String]) {
        ids.withLock { set in for id in entryIDs { set.remove(id) } }
    }

    public var count: Int { ids.withLock { $0.count } }
}

/// A flag the pipeline threads poll to stop.
public final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public func set() { value.store(true, ordering: .releasing) }
    public var isSet: Bool { value.load(ordering: .acquiring) }
}
