#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import KernelEvents
@testable import KernelSpill
import KernelStore
import Logging
import Synchronization
import Testing

@Suite("Spill appender")
struct SpillAppenderTests {
    static let logger = Logger(label: "kernel.spill.tests") { _ in SwiftLogNoOpLogHandler() }

    /// Every event in the directory's segments, in file order, with its origin and the damage found.
    static func readBack(_ directory: SpillDirectory) throws -> (events: [StoredEvent], origins: [EventOrigin], damage: [SpillDamage]) {
        var events: [StoredEvent] = []
        var origins: [EventOrigin] = []
        var damage: [SpillDamage] = []
        for segment in try directory.segments() {
            for item in try SpillFixtures.readAll(segment.path) {
                switch item {
                case .record(_, let payload):
                    let decoded = try SpillEventCodec.decode(payload[...])
                    events.append(decoded.event)
                    origins.append(decoded.origin)
                case .damage(let d): damage.append(d)
                }
            }
        }
        return (events, origins, damage)
    }

    @Test("batches span rotations; every event reads back in order; closed segments exclude the active one")
    func rotation() throws {
        let root = TempDirectory()
        let directory = try SpillDirectory(path: root.path + "/spill")
        let appender = try SpillAppender(directory: directory, segmentBytes: 4096, maxBytes: 1 << 30, logger: Self.logger)
        #expect(try !appender.hasData())
        var written: [StoredEvent] = []
        var sequences: Set<UInt64> = []
        for b in 0..<6 {
            let batch = (0..<15).map { SpillFixtures.event(b * 15 + $0) }
            let report = try appender.append(batch)
            #expect(report.records == 15)
            sequences.formUnion(report.segmentSequences)
            written += batch
        }
        #expect(sequences.count > 3, "small segments rotate")
        #expect(try appender.hasData())
        let active = try #require(appender.activeSequence)
        let closed = try appender.closedSegments()
        #expect(!closed.contains { $0.sequence == active })
        #expect(closed.count == (try directory.segments()).count - 1)
        // Segments stay within segmentBytes unless a single record is larger.
        #expect(try directory.segments().allSatisfy { $0.bytes <= 4096 })

        try appender.sealActive()
        #expect(appender.activeSequence == nil)
        #expect(try appender.closedSegments().count == (try directory.segments()).count)
        let back = try Self.readBack(directory)
        #expect(back.damage.isEmpty)
        #expect(back.events.count == written.count)
        #expect(zip(back.events, written).allSatisfy { SpillFixtures.same($0, $1) })
        #expect(back.origins == SpillFixtures.origins(of: written))

        let stats = appender.stats()
        #expect(stats.recordsWrittenTotal == Int64(written.count))
        #expect(stats.batchesWrittenTotal == 6)
        #expect(stats.currentBytes == (try directory.totalBytes()))
        #expect(appender.totalBytes == stats.currentBytes)
        #expect(stats.files == (try directory.segments()).count)

        // After sealing, the next append opens a new segment with the next sequence.
        let report = try appender.append([SpillFixtures.generic(999)])
        #expect(report.segmentSequences == [(sequences.max() ?? 0) + 1])
    }

    @Test("a record larger than segmentBytes gets a segment of its own")
    func oversizedRecord() throws {
        let root = TempDirectory()
        let directory = try SpillDirectory(path: root.path)
        let appender = try SpillAppender(directory: directory, segmentBytes: 1024, maxBytes: 1 << 30, logger: Self.logger)
        var big = SpillFixtures.generic(1)
        big.payloadJSON = [UInt8](repeating: UInt8(ascii: "x"), count: 5000)
        let report = try appender.append([SpillFixtures.generic(0), big, SpillFixtures.generic(2)])
        #expect(report.segmentSequences.count == 3)
        try appender.sealActive()
        #expect(try Self.readBack(directory).origins.map(\.entryID) == ["1764000000000-0", "1764000000000-1", "1764000000000-2"])
    }

    @Test("over the budget nothing is written and the error says why")
    func budget() throws {
        let root = TempDirectory()
        let directory = try SpillDirectory(path: root.path + "/spill")
        let batch = (0..<10).map { SpillFixtures.event($0) }
        let batchBytes = SpillRecordBatch.encodedSize(batch, origins: SpillFixtures.origins(of: batch))
        let maxBytes = SpillSegmentFormat.headerSize + batchBytes + batchBytes / 2
        let appender = try SpillAppender(directory: directory, segmentBytes: 1 << 20, maxBytes: maxBytes, logger: Self.logger)
        _ = try appender.append(batch)
        let before = try directory.segments()
        do {
            _ = try appender.append(batch)
            Issue.record("the second batch went past the budget")
        } catch {
            #expect(error.isBudgetExceeded)
            #expect(error.reasonCode == "spill_budget_exceeded")
            #expect(error == .budgetExceeded(currentBytes: before.reduce(0) { $0 + $1.bytes }, batchBytes: batchBytes, maxBytes: maxBytes))
        }
        #expect(try directory.segments() == before, "nothing written")
        #expect(appender.stats().budgetRejectionsTotal == 1)
        // Once replay frees space, spilling resumes.
        try appender.sealActive()
        for segment in try appender.closedSegments() { try directory.remove(segment) }
        _ = try appender.append(batch)
        #expect(try Self.readBack(directory).events.count == 10)
    }

    /// Found by `SpillOutageTests` (65,720 bytes of segments under a 65,536-byte budget): the
    /// check counted the records but not the headers of the segments a batch opens.
    @Test("the segments' headers count against the budget: the directory never passes it")
    func budgetCountsSegmentHeaders() throws {
        let batch = (0..<10).map { SpillFixtures.event($0) }
        let batchBytes = SpillRecordBatch.encodedSize(batch, origins: SpillFixtures.origins(of: batch))
        let header = SpillSegmentFormat.headerSize
        var acceptedBudgets: [Int] = []
        // 1 KiB segments: the batch needs several, each with its header.
        for maxBytes in [batchBytes, batchBytes + header, batchBytes + 4 * header, batchBytes + 64 * header] {
            let root = TempDirectory()
            let directory = try SpillDirectory(path: root.path + "/spill")
            let appender = try SpillAppender(directory: directory, segmentBytes: 1024, maxBytes: maxBytes, logger: Self.logger)
            do {
                _ = try appender.append(batch)
                acceptedBudgets.append(maxBytes)
                try appender.sealActive()
                let bytes = try directory.segments().reduce(0) { $0 + $1.bytes }
                #expect(bytes <= maxBytes, "\(bytes) bytes on disk, budget \(maxBytes) (records \(batchBytes))")
                #expect(try Self.readBack(directory).events.count == 10)
            } catch let error as SpillError {
                #expect(error.isBudgetExceeded)
                #expect(try directory.segments().isEmpty, "nothing written")
            }
        }
        #expect(!acceptedBudgets.contains(batchBytes) && !acceptedBudgets.contains(batchBytes + header),
                "a budget without room for the batch's segment headers refuses it: \(acceptedBudgets)")
        #expect(acceptedBudgets.contains(batchBytes + 64 * header))
    }

    @Test("sequences continue after the directory is reopened and after every segment was removed")
    func sequenceContinues() throws {
        let root = TempDirectory()
        let first = try SpillAppender(directory: try SpillDirectory(path: root.path), segmentBytes: 2048, maxBytes: 1 << 30,
                                      logger: Self.logger)
        let firstSequences = try first.append((0..<20).map { SpillFixtures.event($0) }).segmentSequences
        try first.sealActive()
        let highest = try #require(firstSequences.max())
        let reopened = try SpillDirectory(path: root.path)
        #expect(try reopened.nextSequence() == highest + 1)
        let second = try SpillAppender(directory: reopened, segmentBytes: 2048, maxBytes: 1 << 30, logger: Self.logger)
        #expect(try second.append([SpillFixtures.generic(100)]).segmentSequences == [highest + 1])
        // The replayer empties the directory; this process still never reuses a sequence.
        try second.sealActive()
        for segment in try reopened.segments() { try reopened.remove(segment) }
        #expect(try second.append([SpillFixtures.generic(101)]).segmentSequences == [highest + 2])
    }

    @Test("several threads appending at once: every event is read back exactly once")
    func concurrentAppends() throws {
        let root = TempDirectory()
        let directory = try SpillDirectory(path: root.path + "/spill")
        let appender = try SpillAppender(directory: directory, segmentBytes: 16 * 1024, maxBytes: 1 << 30, logger: Self.logger)
        let threads = 4, batches = 20, perBatch = 25
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for b in 0..<batches {
                let batch = (0..<perBatch).map { i in SpillFixtures.event((t * batches + b) * perBatch + i) }
                do {
                    let report = try appender.append(batch)
                    if report.records != perBatch { failures.withLock { $0.append("short report \(report)") } }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        try appender.sealActive()
        let back = try Self.readBack(directory)
        #expect(back.damage.isEmpty)
        let total = threads * batches * perBatch
        #expect(back.events.count == total)
        let ids = back.events.map(\.eventID)
        #expect(Set(ids).count == total, "no event twice")
        let expected = Set((0..<total).map { SpillFixtures.event($0).eventID })
        #expect(Set(ids) == expected, "no event missing")
        // Each batch stays contiguous (appends are serialised).
        let entries = back.origins.map(\.entryID)
        for start in stride(from: 0, to: total, by: perBatch) {
            let group = entries[start..<(start + perBatch)]
            #expect(Set(group).count == perBatch)
        }
        #expect(appender.stats().recordsWrittenTotal == Int64(total))
    }

    @Test("an empty batch writes nothing; a leftover empty segment counts as data to clear")
    func emptyBatchAndLeftovers() throws {
        let root = TempDirectory()
        let directory = try SpillDirectory(path: root.path)
        let appender = try SpillAppender(directory: directory, segmentBytes: 4096, maxBytes: 1 << 20, logger: Self.logger)
        #expect(try appender.append([]).records == 0)
        #expect(try directory.segments().isEmpty)
        _ = try SpillFixtures.writeSegment(in: root.path, sequence: 5, payloads: [])
        #expect(try appender.hasData())
        #expect(try appender.closedSegments().map(\.sequence) == [5])
        #expect(try appender.append([SpillFixtures.generic(1)]).segmentSequences == [6])
    }

    @Test("a failed write (ENOSPC) throws, abandons the segment, and the next batch goes to a new one")
    func diskFull() throws {
        let root = TempDirectory()
        let directory = try SpillDirectory(path: root.path)
        let appender = try SpillAppender(directory: directory, segmentBytes: 1 << 20, maxBytes: 1 << 30, logger: Self.logger)
        let first = (0..<5).map { SpillFixtures.event($0) }
        let firstSequence = try appender.append(first).segmentSequences
        // Point the active segment's descriptor at /dev/full: every write now fails with ENOSPC.
        let full = open("/dev/full", O_WRONLY)
        try #require(full >= 0)
        defer { close(full) }
        let fd = try #require(appender.state.withLock { $0.active?.fd })
        #expect(dup2(full, fd) == fd)
        do {
            _ = try appender.append((5..<10).map { SpillFixtures.event($0) })
            Issue.record("a write to a full disk succeeded")
        } catch {
            #expect(error.reasonCode == "spill_io_error")
            #expect(error == .io(operation: "write", path: root.path + "/" + SpillSegmentFormat.fileName(sequence: firstSequence[0]),
                                 errno: ENOSPC))
        }
        #expect(appender.activeSequence == nil, "the failed segment is abandoned")
        let third = (10..<15).map { SpillFixtures.event($0) }
        #expect(try appender.append(third).segmentSequences == [firstSequence[0] + 1])
        try appender.sealActive()
        let back = try Self.readBack(directory)
        #expect(back.damage.isEmpty)
        #expect(back.events.map(\.eventID) == (first + third).map(\.eventID), "the failed batch is not in the spill")
        #expect(appender.stats().batchesWrittenTotal == 2)
    }
}
