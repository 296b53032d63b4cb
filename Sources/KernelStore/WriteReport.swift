/// The outcome of `EventWriter.write` for one batch.
///
/// Refused events are named by their index in the batch passed to `write` (the store knows no
/// stream entry ids: the caller maps indices back to its own records of each event).
///
/// Every input event is counted exactly once: `inserted + duplicates + rejected.count +
/// conflicts.count + overBudget.count` equals the batch size. Inserted and duplicate events are durable (committed)
/// and can be acknowledged; rejected ones must be dead-lettered (`persist_failed`), conflicts as
/// `event_id_conflict`.
public struct WriteReport: Sendable {
    /// Events newly stored by this batch.
    public var inserted: Int
    /// Events already stored (redeliveries), including a second copy of an event id inside the batch.
    public var duplicates: Int
    /// Events refused for data reasons, with Postgres' message (or the writer's, for values that
    /// cannot be encoded at all). A copy of a rejected event inside the same batch is rejected too.
    public var rejected: [(index: Int, reason: String)]
    /// Events whose event_id is already stored with other content (or twice in the batch with
    /// different content: the later copy): first write wins, these are not stored.
    public var conflicts: [(index: Int, detail: String)]
    /// Events refused because their producer has added its budget of tags to the dictionary
    /// (`server.max_tags_per_producer`): dead-lettered as `tag_budget_exceeded`, not stored.
    public var overBudget: [(index: Int, detail: String)]
    /// True when the batch went through the deduplicating staging path (redeliveries present, a
    /// unique violation on the fast path, or isolation of bad events).
    public var usedDedupPath: Bool

    /// Creates a report.
    public init(inserted: Int = 0, duplicates: Int = 0, rejected: [(index: Int, reason: String)] = [],
                conflicts: [(index: Int, detail: String)] = [],
                overBudget: [(index: Int, detail: String)] = [], usedDedupPath: Bool = false) {
        self.overBudget = overBudget
        self.conflicts = conflicts
        self.inserted = inserted
        self.duplicates = duplicates
        self.rejected = rejected
        self.usedDedupPath = usedDedupPath
    }
}
