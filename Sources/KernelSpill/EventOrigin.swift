/// Where an event came from in Redis: kept beside its `StoredEvent` (a parallel array), never in
/// it, because the store knows nothing of streams (docs/architecture.md, "Storage"). The spill
/// records it with the event, so a replay can dead-letter a refused event under its entry.
public struct EventOrigin: Sendable, Equatable {
    /// The stream entry, as the kernel names it (`EntryRef`: `<shard>/<entry id>` on a sharded
    /// stream), acknowledged once the event is durable.
    public var entryID: String
    /// The id the DLQ reports for it (the producer's `id` field, else the entry reference).
    public var dlqID: String

    public init(entryID: String, dlqID: String) {
        self.entryID = entryID
        self.dlqID = dlqID
    }
}
