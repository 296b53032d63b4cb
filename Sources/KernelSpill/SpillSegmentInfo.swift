/// A segment file found in the spill directory.
public struct SpillSegmentInfo: Sendable, Equatable {
    public var path: String
    public var fileName: String
    public var sequence: UInt64
    /// The file's size when listed.
    public var bytes: Int
    /// The creation time from the file header, or nil when the header is unreadable.
    public var createdAtNanos: Int64?

    public init(path: String, fileName: String, sequence: UInt64, bytes: Int, createdAtNanos: Int64?) {
        self.path = path
        self.fileName = fileName
        self.sequence = sequence
        self.bytes = bytes
        self.createdAtNanos = createdAtNanos
    }
}
