/// Counters of a `SpillAppender` since it was created.
public struct SpillAppenderStats: Sendable, Equatable {
    /// Bytes written by successful appends.
    public var bytesWrittenTotal: Int
    /// Records written by successful appends.
    public var recordsWrittenTotal: Int64
    /// Batches spilled.
    public var batchesWrittenTotal: Int64
    /// Batches refused for the disk budget.
    public var budgetRejectionsTotal: Int64
    /// The directory's segment bytes and files as of the last append, seal or listing.
    public var currentBytes: Int
    public var files: Int
}
