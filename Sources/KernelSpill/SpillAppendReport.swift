/// What one `SpillAppender.append` made durable.
public struct SpillAppendReport: Sendable, Equatable {
    /// Records (events) written and fsynced.
    public var records: Int
    /// Bytes written (record frames).
    public var bytes: Int
    /// The segments the batch went into, in order (more than one when it spanned a rotation).
    public var segmentSequences: [UInt64]
}
