#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KernelStore
import Logging
import Synchronization

/// The spill shared by the writer threads: appends batches of events to the active segment,
/// rotating segments at `segmentBytes`, and fsyncs before returning.
///
/// Contract with the caller: when `append` returns, every event of the batch is durable and its
/// stream entries may be acknowledged. When it throws, the batch is NOT spilled (do not
/// acknowledge); some of its records may already be in a segment, which is harmless because replay
/// deduplicates by event id.
///
/// Encoding happens outside the lock (threads encode in parallel); writing and fsync happen under
/// it, one batch at a time.
public final class SpillAppender: Sendable {
    public let directory: SpillDirectory
    public let segmentBytes: Int
    public let maxBytes: Int
    private let logger: Logger
    // Internal (not private) so tests can reach the active writer to inject a failing device.
    let state: Mutex<State>

    struct State: ~Copyable {
        var active: SpillSegmentWriter?
        var lastSequence: UInt64 = 0
        var stats = SpillAppenderStats(bytesWrittenTotal: 0, recordsWrittenTotal: 0, batchesWrittenTotal: 0,
                                       budgetRejectionsTotal: 0, currentBytes: 0, files: 0)
    }

    /// `segmentBytes`: size at which the active segment is closed and a new one started.
    /// `maxBytes`: total segment bytes allowed in the directory (`spill.max_bytes`).
    /// Lists the directory once (so an unreadable directory fails here, at start-up, and the
    /// counters start from what is on disk).
    public init(directory: SpillDirectory, segmentBytes: Int, maxBytes: Int, logger: Logger) throws(SpillError) {
        let existing = try directory.listSegments(readHeaders: false)
        var initial = State()
        initial.lastSequence = existing.last?.sequence ?? 0
        initial.stats.currentBytes = existing.reduce(0) { $0 + $1.bytes }
        initial.stats.files = existing.count
        self.directory = directory
        self.segmentBytes = max(segmentBytes, SpillSegmentFormat.headerSize + 1)
        self.maxBytes = maxBytes
        self.logger = logger
        self.state = Mutex(initial)
    }

    /// Spills `batch` durably. Throws `.budgetExceeded` (nothing written) when the directory's
    /// segments plus the batch would pass `maxBytes`; `.recordTooLarge` (nothing written) for an
    /// event above the record limit; `.io` for a failed write or fsync (the batch is not spilled).
    /// `origins[i]` is where `batch[i]` came from (one per event), recorded with it.
    public func append(_ batch: [StoredEvent], origins: [EventOrigin]) throws(SpillError) -> SpillAppendReport {
        guard !batch.isEmpty else { return SpillAppendReport(records: 0, bytes: 0, segmentSequences: []) }
        let records = try SpillRecordBatch(batch, origins: origins)
        return try state.withLock { (state) throws(SpillError) -> SpillAppendReport in
            try write(records, state: &state)
        }
    }

    private func write(_ records: SpillRecordBatch, state: inout State) throws(SpillError) -> SpillAppendReport {
        let listing = try directory.listSegments(readHeaders: false)
        let current = listing.reduce(0) { $0 + $1.bytes }
        let batchBytes = records.bytes.count
        state.stats.currentBytes = current
        state.stats.files = listing.count
        // The headers of the segments this write may open count too: each new segment holds at
        // least `segmentBytes - headerSize` bytes of records before the next one opens (a record
        // larger than that gets one of its own), so at most this many open.
        let capacity = max(1, segmentBytes - SpillSegmentFormat.headerSize)
        let opened = min(records.recordCount, batchBytes / capacity + 1)
        guard current + batchBytes + opened * SpillSegmentFormat.headerSize <= maxBytes else {
            state.stats.budgetRejectionsTotal += 1
            throw .budgetExceeded(currentBytes: current, batchBytes: batchBytes, maxBytes: maxBytes)
        }
        var sequences: [UInt64] = []
        var filesOpened = 0
        do throws(SpillError) {
            var runStart = 0   // byte offset where the current run of records (one segment) begins
            var index = 0
            while index < records.recordCount {
                let writer = try activeWriter(&state, opened: &filesOpened)
                if sequences.last != writer.sequence { sequences.append(writer.sequence) }
                // Take as many records as fit in this segment (at least one, so a record larger
                // than segmentBytes gets a segment of its own).
                var end = index
                var taken = 0
                while end < records.recordCount {
                    let runBytes = records.recordEnds[end] - runStart
                    if taken > 0 || writer.recordCount > 0 {
                        if writer.size + Int64(runBytes) > Int64(segmentBytes) { break }
                    }
                    end += 1
                    taken += 1
                }
                if taken == 0 {
                    try seal(&state)
                    continue
                }
                let runEnd = records.recordEnds[end - 1]
                do throws(SpillFormatError) {
                    try writer.appendFramed(records.bytes[runStart..<runEnd], records: taken)
                } catch {
                    throw SpillError(error)
                }
                runStart = runEnd
                index = end
            }
            do throws(SpillFormatError) {
                try state.active?.sync()
            } catch {
                throw SpillError(error)
            }
        } catch {
            if let writer = state.active {
                logger.error("spill segment abandoned after a failed write; its tail will read as torn", metadata: [
                    "event": "infra", "component": "spill", "reason_code": .string(error.reasonCode),
                    "file": .string(writer.path), "details": .string("\(error)"),
                ])
                writer.abandon()
                state.active = nil
            }
            throw error
        }
        state.stats.bytesWrittenTotal += batchBytes
        state.stats.recordsWrittenTotal += Int64(records.recordCount)
        state.stats.batchesWrittenTotal += 1
        state.stats.currentBytes = current + batchBytes + filesOpened * SpillSegmentFormat.headerSize
        state.stats.files = listing.count + filesOpened
        return SpillAppendReport(records: records.recordCount, bytes: batchBytes, segmentSequences: sequences)
    }

    /// The active segment, opening a new one if there is none.
    private func activeWriter(_ state: inout State, opened: inout Int) throws(SpillError) -> SpillSegmentWriter {
        if let active = state.active { return active }
        var sequence = max(try directory.nextSequence(), state.lastSequence + 1)
        while true {
            do throws(SpillFormatError) {
                let writer = try SpillSegmentWriter.create(directory: directory.path, sequence: sequence)
                state.active = writer
                state.lastSequence = sequence
                opened += 1
                logger.info("spill segment opened", metadata: [
                    "event": "infra", "component": "spill", "file": .string(writer.path),
                ])
                return writer
            } catch {
                // Another process took the name (it should hold the lock; be robust anyway).
                if case .io(_, _, let code) = error, code == EEXIST { sequence += 1; continue }
                throw SpillError(error)
            }
        }
    }

    private func seal(_ state: inout State) throws(SpillError) {
        guard let writer = state.active else { return }
        state.active = nil
        do throws(SpillFormatError) {
            try writer.seal()
        } catch {
            writer.abandon()
            throw SpillError(error)
        }
        logger.info("spill segment sealed", metadata: [
            "event": "infra", "component": "spill", "file": .string(writer.path),
            "bytes": "\(writer.size)", "records": "\(writer.recordCount)",
        ])
    }

    /// Closes the active segment (fsynced) so every segment present is closed and may be replayed;
    /// the next `append` opens a new segment.
    public func sealActive() throws(SpillError) {
        try state.withLock { (state) throws(SpillError) in try seal(&state) }
    }

    /// Every segment except the one being appended to, oldest first: what a replayer may take.
    public func closedSegments() throws(SpillError) -> [SpillSegmentInfo] {
        try state.withLock { (state) throws(SpillError) -> [SpillSegmentInfo] in
            let all = try directory.segments()
            state.stats.currentBytes = all.reduce(0) { $0 + $1.bytes }
            state.stats.files = all.count
            guard let active = state.active else { return all }
            return all.filter { $0.sequence != active.sequence }
        }
    }

    /// Whether there is anything to replay: a segment other than the active one, or an active
    /// segment holding records. (An empty segment left by a crash counts, so replay clears it.)
    public func hasData() throws(SpillError) -> Bool {
        try state.withLock { (state) throws(SpillError) -> Bool in
            let all = try directory.listSegments(readHeaders: false)
            state.stats.currentBytes = all.reduce(0) { $0 + $1.bytes }
            state.stats.files = all.count
            guard let active = state.active else { return !all.isEmpty }
            return active.recordCount > 0 || all.contains { $0.sequence != active.sequence }
        }
    }

    /// The directory's segment bytes as last seen (after the last append, seal or listing); cheap,
    /// for gauges and loops that must not touch the disk.
    public var totalBytes: Int {
        state.withLock { $0.stats.currentBytes }
    }

    /// The sequence of the segment being appended to, if one is open.
    public var activeSequence: UInt64? {
        state.withLock { $0.active?.sequence }
    }

    /// Counters since creation, and the directory's size as last seen.
    public func stats() -> SpillAppenderStats {
        state.withLock { $0.stats }
    }
}
