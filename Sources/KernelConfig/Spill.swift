extension KernelConfig {
    /// `spill`: local files that hold batches while Postgres is unreachable.
    public struct Spill: Sendable, Equatable {
        /// `spill.dir`: directory of spill files (created if missing).
        public var dir = "./spill"
        /// `spill.max_bytes`: total spill size allowed; when full the reader stops (backpressure).
        public var maxBytes = 10 << 30
        /// `spill.segment_bytes`: size at which a spill file is closed and a new one started.
        public var segmentBytes = 64 << 20
        /// `spill.replay_batch_size`: rows per transaction when replaying into Postgres.
        public var replayBatchSize = 1000
        /// `spill.replay_interval_ms`: how often the kernel looks for spill to replay once
        /// Postgres answers (docs/operations.md, "Postgres outages: the spill").
        public var replayIntervalMs = 3000

        /// A spill section with every default.
        public init() {}

        static let keys = ["dir", "max_bytes", "segment_bytes", "replay_batch_size", "replay_interval_ms"]

        init(_ reader: MappingReader) {
            dir = reader.string("dir", default: dir)
            maxBytes = reader.size("max_bytes", default: maxBytes, min: 1)
            segmentBytes = reader.size("segment_bytes", default: segmentBytes, min: 1)
            replayBatchSize = reader.int("replay_batch_size", default: replayBatchSize, min: 1)
            replayIntervalMs = reader.int("replay_interval_ms", default: replayIntervalMs, min: 10)
            if segmentBytes > maxBytes {
                reader.log.add(reader.child("segment_bytes"),
                               "must not exceed spill.max_bytes (\(segmentBytes) > \(maxBytes))", .conflict)
            }
        }
    }
}
