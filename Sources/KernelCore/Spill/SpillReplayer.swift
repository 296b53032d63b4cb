import KernelPostgres
import KernelSpill
import KernelStore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Replays spill segments into Postgres, oldest first, in bounded batches, and erases each
/// segment once every row of it is committed (docs/spill.md, "Durability rules").
///
/// - Memory stays flat whatever the spill size: the reader streams a segment record by record
///   and at most `batchSize` events are held at a time.
/// - Idempotent: a kill -9 mid-segment replays the segment again from its start after restart;
///   rows already committed come back as duplicates (the store's unique-violation fallback) and
///   are not stored twice.
/// - Rows Postgres refuses for data reasons are dead-lettered as `persist_failed` (synchronously,
///   before the segment is erased).
/// - Damage (bad checksum, bad header, a sealed segment cut short) is reported with file and
///   offset and counted by cause; the good records are replayed and the segment is then renamed
///   `<name>.damaged`, not erased. A torn tail is not damage only in a segment that was never
///   sealed (the append under way when its writer died, never acknowledged) (docs/spill.md).
/// - `salvage` reads `.damaged` files the same way and leaves them in place.
/// - A connectivity error stops the round: the segment stays and is retried on the next one.
public final class SpillReplayer: @unchecked Sendable {
    // @unchecked: used from one thread at a time (the replay thread, or the CLI).
    public struct Outcome: Sendable, Equatable {
        public var segments = 0
        public var events = 0
        public var inserted = 0
        public var duplicates = 0
        public var deadLettered = 0
        /// Records lost to damage (as far as known: a damaged stretch counts as one record unless
        /// the segment's seal tells how many are missing), plus damaged headers.
        public var damaged = 0
        /// Bytes that could not be read back as records (damage and torn tails).
        public var unreadableBytes: Int64 = 0
        /// False when Postgres went away mid-round (what is left stays for the next round).
        public var complete = true
        /// True when the round stopped because the server said it is starting up (57P03).
        public var serverStarting = false

        public init() {}
    }

    let directory: SpillDirectory
    let dsn: String
    let batchSize: Int
    let deadLetters: DeadLetterWriter
    let metrics: PipelineMetrics?
    /// `server.max_tags_per_producer`, for each writer this replayer creates.
    public var tagBudgetPerProducer = 100_000
    let logger: Logger
    private var connection: PGConnection?
    private var writer: EventWriter?

    public init(directory: SpillDirectory, dsn: String, batchSize: Int, deadLetters: DeadLetterWriter,
                metrics: PipelineMetrics?, logger: Logger) {
        self.directory = directory
        self.dsn = dsn
        self.batchSize = max(1, batchSize)
        self.deadLetters = deadLetters
        self.metrics = metrics
        self.logger = logger
    }

    /// Replays `segments` in order. `progress` is called after each batch with the bytes of
    /// segments consumed so far (for the CLI's progress bar).
    public func replay(_ segments: [SpillSegmentInfo], progress: ((Int64) -> Void)? = nil) -> Outcome {
        run(segments, salvage: false, progress: progress)
    }

    /// Replays the good records of quarantined (`.damaged`) files, skipping events already
    /// stored (the writer deduplicates by event id), and leaves the files as they are: a second
    /// salvage stores nothing twice. Damage is not counted again (it was when the file was
    /// quarantined).
    public func salvage(_ files: [SpillSegmentInfo], progress: ((Int64) -> Void)? = nil) -> Outcome {
        run(files, salvage: true, progress: progress)
    }

    private func run(_ segments: [SpillSegmentInfo], salvage: Bool, progress: ((Int64) -> Void)?) -> Outcome {
        var outcome = Outcome()
        var doneBytes: Int64 = 0
        for segment in segments {
            do throws(StoreError) {
                try replay(segment, salvage: salvage, into: &outcome, progress: { progress?(doneBytes + $0) })
                doneBytes += Int64(segment.bytes)
                outcome.segments += 1
            } catch {
                close()
                outcome.complete = false
                outcome.serverStarting = error.pgError.isServerStarting
                logger.warning("spill replay paused: postgres unreachable", metadata: [
                    "event": "infra", "component": "spill", "action": "replay", "outcome": "paused",
                    "reason_code": .string(error.reasonCode), "file": .string(segment.fileName),
                ])
                return outcome
            }
        }
        return outcome
    }

    /// Closes the Postgres connection.
    public func close() {
        connection?.close()
        connection = nil
        writer = nil
    }

    private func replay(_ segment: SpillSegmentInfo, salvage: Bool, into outcome: inout Outcome,
                        progress: (Int64) -> Void) throws(StoreError) {
        var batch = PendingBatch()
        batch.events.reserveCapacity(batchSize)
        batch.origins.reserveCapacity(batchSize)
        var damage = 0
        var damageByCause: [String: Int] = [:]
        var unreadable: Int64 = 0
        var reader: SpillSegmentReader
        do {
            reader = try SpillSegmentReader(path: segment.path)
        } catch {
            // An I/O error (EMFILE, EACCES, EIO), not damage: the header's own damage comes back
            // as an item. The segment stays as it is and is retried next round (docs/spill.md, "Reading and damage").
            ioError(segment, "open failed: \(error)")
            return
        }
        var offset: Int64 = 0
        while true {
            let item: SpillReadItem?
            do { item = try reader.next() } catch {
                // Rows written so far are committed (replays deduplicate); the segment stays and
                // is read again from its start next round.
                if !batch.isEmpty { try write(batch, into: &outcome) }
                ioError(segment, "read failed at offset \(offset): \(error)")
                return
            }
            guard let item else { break }
            switch item {
            case .record(let at, let payload):
                offset = at
                do {
                    let (event, origin) = try SpillEventCodec.decode(payload[...])
                    batch.events.append(event)
                    batch.origins.append(origin)
                } catch {
                    if !salvage { report(damageAt: at, in: segment, "undecodable record: \(error)") }
                    damage += 1
                    damageByCause[SpillDamage.Kind.badRecord.reasonCode, default: 0] += 1
                    unreadable += Int64(SpillSegmentFormat.recordHeaderSize + payload.count)
                }
            case .damage(let d):
                offset = d.offset
                unreadable += d.length
                if d.kind == .tornTail {
                    // Reported only for a segment that was never sealed: the append under way when
                    // its writer died or failed. That batch was never fsynced, so never
                    // acknowledged, and Redis delivers it again. Nothing acknowledged is lost.
                    if !salvage {
                        logger.warning("spill segment has a torn tail (crash mid-write, never sealed); its unacknowledged batch is redelivered by Redis", metadata: [
                            "event": "infra", "component": "spill", "action": "replay", "reason_code": "spill_torn_tail",
                            "file": .string(segment.path), "offset": "\(d.offset)",
                        ])
                    }
                    continue
                }
                let records = d.records ?? 1
                damage += records
                damageByCause[d.reasonCode, default: 0] += records
                guard !salvage else { continue }
                if d.kind == .truncated {
                    // Acknowledged events are gone from this file: say how many, as far as known.
                    var metadata: Logger.Metadata = [
                        "event": "infra", "component": "spill", "action": "replay", "outcome": "damaged",
                        "reason_code": "spill_truncated", "file": .string(segment.path), "offset": "\(d.offset)",
                        "lost_events": .string(d.records.map { String($0) } ?? "unknown"), "details": .string(d.description),
                    ]
                    metadata["acknowledged_events"] = .string(d.sealedRecords.map { String($0) } ?? "unknown")
                    logger.error("spill segment cut short: acknowledged events are lost; the file is kept as .damaged", metadata: metadata)
                } else {
                    report(damageAt: d.offset, in: segment, "\(d.kind): \(d.description)")
                }
            }
            if batch.count >= batchSize {
                try write(batch, into: &outcome)
                batch.events.removeAll(keepingCapacity: true)
                batch.origins.removeAll(keepingCapacity: true)
                progress(offset)
            }
        }
        if !batch.isEmpty { try write(batch, into: &outcome) }
        progress(Int64(segment.bytes))
        outcome.unreadableBytes += unreadable
        if salvage {
            logger.info("damaged spill file salvaged", metadata: [
                "event": "infra", "component": "spill", "action": "salvage", "file": .string(segment.fileName),
                "unreadable_bytes": "\(unreadable)",
            ])
            return
        }
        if damage > 0 {
            outcome.damaged += damage
            metrics?.spillDamageTotal.add(damage, ordering: .relaxed)
            for (cause, records) in damageByCause { metrics?.spillDamaged(cause: cause, records: records) }
            quarantine(segment)
        } else {
            do { try directory.remove(segment) } catch {
                logger.error("spill segment replayed but could not be erased", metadata: [
                    "event": "infra", "component": "spill", "file": .string(segment.path), "details": .string("\(error)"),
                ])
            }
        }
        logger.info("spill segment replayed", metadata: [
            "event": "infra", "component": "spill", "action": "replay", "outcome": damage > 0 ? "damaged" : "erased",
            "file": .string(segment.fileName), "events": "\(outcome.events)", "damaged": "\(damage)",
        ])
    }

    /// Writes one batch of decoded records; the report names refused events by their index in
    /// `batch.events`, and `batch.origins` holds each one's entry at the same index.
    private func write(_ batch: PendingBatch, into outcome: inout Outcome) throws(StoreError) {
        var events = batch.events
        // The fast path is safe for replays: a row stored before makes Postgres report a unique
        // violation and the store redoes the batch on its deduplicating path.
        for i in events.indices { events[i].mayBeRedelivery = false }
        let report = try currentWriter().write(events)
        var letters = report.rejected.map { rejected in
            DeadLetter(persistFailed: events[rejected.index], from: batch.origins[rejected.index], detail: rejected.reason)
        }
        letters += report.conflicts.map { conflict in
            DeadLetter(stored: events[conflict.index], from: batch.origins[conflict.index], reason: .eventIDConflict,
                       detail: conflict.detail)
        }
        letters += report.overBudget.map { refused in
            DeadLetter(stored: events[refused.index], from: batch.origins[refused.index], reason: .tagBudgetExceeded,
                       detail: refused.detail)
        }
        if !letters.isEmpty {
            // Durable before the segment is erased; if Redis is down the round stops here and
            // the segment is replayed again later (its committed rows as duplicates).
            do { try deadLetters.write(letters) } catch {
                throw StoreError.connectivity(PGError(clientReason: "spill_dlq_unavailable", kind: .connectivity,
                                                      message: "dead-letter write failed: \(error)"))
            }
        }
        outcome.events += batch.count
        outcome.inserted += report.inserted
        outcome.duplicates += report.duplicates
        outcome.deadLettered += letters.count
        metrics?.spillReplayTotal.add(batch.count, ordering: .relaxed)
        metrics?.committed(events: report.inserted, duplicates: report.duplicates)
    }

    private func currentWriter() throws(StoreError) -> EventWriter {
        if let writer, let connection, connection.isConnected { return writer }
        close()
        let c: PGConnection
        do { c = try PGConnection(dsn: dsn, logger: logger) } catch { throw StoreError.connectivityOrDatabase(error) }
        connection = c
        let w = EventWriter(connection: c, logger: logger)
        w.tagBudgetPerProducer = tagBudgetPerProducer
        writer = w
        return w
    }

    private func report(damageAt offset: Int64, in segment: SpillSegmentInfo, _ detail: String) {
        logger.error("spill damage found; skipping the damaged bytes", metadata: [
            "event": "infra", "component": "spill", "action": "replay", "outcome": "damaged",
            "reason_code": "spill_damaged", "file": .string(segment.path), "offset": "\(offset)", "details": .string(detail),
        ])
    }

    private func ioError(_ segment: SpillSegmentInfo, _ detail: String) {
        logger.error("spill segment unreadable; kept and retried next round", metadata: [
            "event": "infra", "component": "spill", "action": "replay", "outcome": "skipped",
            "reason_code": "spill_io_error", "file": .string(segment.path), "details": .string(detail),
        ])
    }

    /// Renames a damaged segment out of the replay set (`.damaged`), so it is kept for inspection.
    private func quarantine(_ segment: SpillSegmentInfo) {
        let target = segment.path + ".damaged"
        if rename(segment.path, target) != 0 {
            logger.error("could not quarantine damaged spill segment", metadata: [
                "event": "infra", "component": "spill", "file": .string(segment.path), "errno": "\(errno)",
            ])
        }
    }
}
