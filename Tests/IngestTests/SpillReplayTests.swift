import Foundation
import KernelCore
import KernelEvents
import KernelMetrics
import KernelRedis
import KernelPlugins
import KernelSpill
import KernelStore
import KernelTestSupport
import Logging
import Testing

/// The replayer against real spill files and a real Postgres: damaged segments replay their good
/// records and report the damage with file and offset; replays are idempotent.
@Suite("Spill replay")
struct SpillReplayTests {
    /// A batch to spill: events and where each came from.
    struct Spilled {
        var events: [StoredEvent] = []
        var origins: [EventOrigin] = []
    }

    /// Generic events (no plugin) for the harness's producer/subject, from entries `1-<n>`.
    func events(_ h: IngestHarness, count: Int, from start: Int) throws -> Spilled {
        let producer = try h.producer()
        let (subject, schema) = try h.subject(family: "spill_generic")
        let nowMicros = Int64(Date().timeIntervalSince1970 * 1e6)
        var batch = Spilled()
        for i in start..<(start + count) {
            let payload = #"{"n":\#(i),"note":"spilled event number \#(i)"}"#
            var e = StoredEvent(eventID: EventUUID(UUID().uuidString.lowercased())!, tsMicros: nowMicros - Int64(i),
                                tsEventMicros: nil, subjectID: subject, producerID: producer, schemaID: schema, family: nil,
                                payloadJSON: Array(payload.utf8), rows: [], tags: [KernelPlugins.Tag(key: "core.test", value: "spill")],
                                mayBeRedelivery: false)
            e.sourcePayload = Array(payload.utf8)
            batch.events.append(e)
            batch.origins.append(EventOrigin(entryID: "1-\(i)", dlqID: "client-\(i)"))
        }
        return batch
    }

    /// Runs `body` with a fresh harness, a log capture and a logger into it, and the harness's
    /// spill directory.
    func withSpillDirectory(_ body: (IngestHarness, CapturedLogs, Logger, SpillDirectory) throws -> Void) throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let log = CapturedLogs()
        let logger = log.logger(label: "spill-test", level: .trace)
        try body(h, log, logger, try SpillDirectory(path: h.dir + "/spill"))
    }

    /// Appends `count` events (from seq 0) to one segment and seals it; returns the directory's
    /// first segment.
    func sealOneSegment(_ h: IngestHarness, _ directory: SpillDirectory, events count: Int, logger: Logger) throws -> SpillSegmentInfo? {
        let appender = try SpillAppender(directory: directory, segmentBytes: 1 << 20, maxBytes: 1 << 30, logger: logger)
        _ = try appender.append(try events(h, count: count, from: 0))
        try appender.sealActive()
        return try directory.segments().first
    }

    /// Replays every segment of `directory` into the harness's Postgres, as the kernel's replay
    /// loop does (batches of 64, dead letters to the harness's DLQ stream).
    func replayEverySegment(_ h: IngestHarness, _ directory: SpillDirectory, logger: Logger,
                            metrics: PipelineMetrics? = nil) throws -> SpillReplayer.Outcome {
        let replayer = SpillReplayer(directory: directory, dsn: h.dsn, batchSize: 64,
                                     deadLetters: DeadLetterWriter(dlqStream: h.dlqKey, settings: try h.config().redisSettings),
                                     metrics: metrics, logger: logger)
        defer { replayer.close() }
        return replayer.replay(try directory.segments())
    }

    @Test func damagedSegmentsReplayTheirGoodRecordsAndReportFileAndOffset() throws {
        try withSpillDirectory { h, log, logger, directory in
            // Three segments of 100 events each. The second is left open, as the segment being
            // appended when a process dies is: only there is a torn tail the trace of a crash.
            do {
                let died = try SpillAppender(directory: directory, segmentBytes: 1 << 20, maxBytes: 1 << 30, logger: logger)
                _ = try died.append(try events(h, count: 100, from: 0))
                try died.sealActive()
                _ = try died.append(try events(h, count: 100, from: 100))
            }
            let appender = try SpillAppender(directory: directory, segmentBytes: 1 << 20, maxBytes: 1 << 30, logger: logger)
            _ = try appender.append(try events(h, count: 100, from: 200))
            try appender.sealActive()
            let segments = try directory.segments()
            #expect(segments.count == 3)
            // Segment 2: a torn tail (the last record cut short, as a crash mid-append leaves it).
            let torn = segments[1].path
            let tornSize = try FileManager.default.attributesOfItem(atPath: torn)[.size] as! Int
            #expect(truncate(torn, off_t(tornSize - 7)) == 0)
            // Segment 3: one byte flipped in the middle of the file.
            let flipped = segments[2].path
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: flipped)))
            bytes[bytes.count / 2] ^= 0x5A
            try Data(bytes).write(to: URL(fileURLWithPath: flipped))

            let outcome = try replayEverySegment(h, directory, logger: logger)
            #expect(outcome.complete)
            #expect(outcome.events == 298, "300 spilled, one torn, one damaged")
            #expect(try h.count("SELECT count(*) FROM events") == 298)
            #expect(try h.count("SELECT count(DISTINCT event_id) FROM events") == 298)
            // The clean and the torn segments are erased; the damaged one is kept for inspection.
            #expect(!FileManager.default.fileExists(atPath: segments[0].path))
            #expect(!FileManager.default.fileExists(atPath: torn))
            #expect(FileManager.default.fileExists(atPath: flipped + ".damaged"))
            let damageLines = log.all.filter { $0.message.contains("spill damage") }
            #expect(damageLines.count == 1)
            #expect(damageLines.first?.metadata["file"] == flipped)
            #expect(Int(damageLines.first?.metadata["offset"] ?? "") != nil)
            #expect(log.all.contains { $0.message.contains("torn tail") && $0.metadata["file"] == torn })

            // Replaying the same events again (a kill -9 mid-replay) stores nothing twice.
            let again = try events(h, count: 50, from: 1000)
            _ = try appender.append(again)
            _ = try appender.append(again)
            try appender.sealActive()
            let outcome2 = try replayEverySegment(h, directory, logger: logger)
            #expect(outcome2.events == 100)
            #expect(outcome2.inserted == 50)
            #expect(outcome2.duplicates == 50)
            #expect(try h.count("SELECT count(*) FROM events") == 348)
        }
    }

    /// Observed at the previous release: 2,000 bytes cut from the end of a sealed, acknowledged
    /// segment were logged as a torn tail and the file erased, the lost events counted nowhere.
    /// Only the segment being appended when a process died may end in a torn record.
    @Test func aTruncatedSealedSegmentIsDamageKeptAndCountedNotATornTail() throws {
        try withSpillDirectory { h, log, logger, directory in
            let segment = try #require(try sealOneSegment(h, directory, events: 200, logger: logger))
            #expect(truncate(segment.path, off_t(segment.bytes - 2000)) == 0)

            let metrics = PipelineMetrics()
            let outcome = try replayEverySegment(h, directory, logger: logger, metrics: metrics)
            let stored = try h.count("SELECT count(*) FROM events")
            #expect(outcome.complete)
            #expect(stored > 150 && stored < 200, "the records before the cut are replayed: \(stored)")
            #expect(FileManager.default.fileExists(atPath: segment.path + ".damaged"), "the file is kept, not erased")
            #expect(!log.all.contains { $0.message.contains("torn tail") }, "a sealed segment has no torn tail")
            let line = log.all.first { $0.metadata["reason_code"] == "spill_truncated" }
            #expect(line?.metadata["file"] == segment.path)
            #expect(line?.metadata["acknowledged_events"] == "200", "the seal says how many acknowledged events it held")
            #expect(line?.metadata["lost_events"] == "\(200 - stored)")
            #expect(outcome.damaged == 200 - stored)
            #expect(metrics.spillDamagedRecordsByCause == ["spill_truncated": 200 - stored])
        }
    }

    @Test func theDamageCausesPreCreatedInTheMetricsAreTheReaderReasonCodes() {
        let codes = SpillDamage.Kind.allCases.filter { $0 != .tornTail }.map(\.reasonCode)
        #expect(Set(KernelMetrics.spillDamageCauses) == Set(codes))
    }

    /// Observed at the previous release: one flipped bit in a segment header lost all the
    /// segment's intact records.
    @Test func aFlippedHeaderBitLosesNoIntactRecord() throws {
        try withSpillDirectory { h, log, logger, directory in
            let segment = try #require(try sealOneSegment(h, directory, events: 300, logger: logger))
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment.path)))
            bytes[14] ^= 0x04   // a bit of the creation time: the header CRC fails
            try Data(bytes).write(to: URL(fileURLWithPath: segment.path))

            let metrics = PipelineMetrics()
            let outcome = try replayEverySegment(h, directory, logger: logger, metrics: metrics)
            #expect(outcome.complete)
            #expect(outcome.events == 300)
            #expect(try h.count("SELECT count(DISTINCT event_id) FROM events") == 300)
            #expect(FileManager.default.fileExists(atPath: segment.path + ".damaged"), "header damage is still damage: kept")
            #expect(log.all.contains { $0.message.contains("spill damage") && ($0.metadata["details"] ?? "").contains("spill_bad_header") })
            #expect(metrics.spillDamagedRecordsByCause == ["spill_bad_header": 1])
        }
    }
}

extension SpillAppender {
    func append(_ batch: SpillReplayTests.Spilled) throws(SpillError) -> SpillAppendReport {
        try append(batch.events, origins: batch.origins)
    }
}
