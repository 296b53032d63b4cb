import KernelPostgres
import KernelSpill
import KernelStore
import Logging

/// One writer thread: takes batches, writes each in one transaction on its own connection, and
/// hands the entry ids to the acknowledger only after COMMIT. Several run in parallel so Postgres
/// writes one batch while the processor prepares the next.
///
/// Failure handling (docs/operations.md, "Postgres outages: the spill"):
/// - Rows Postgres refuses for data reasons are dead-lettered as `persist_failed`; the rest of
///   the batch commits (the store isolates them).
/// - A connectivity error is retried 3 times with backoff (200 ms·2^i, capped at 5 s, jittered);
///   if it still fails, or while the circuit breaker is open, the batch goes to the spill and is
///   acknowledged once the spill file is fsynced.
/// - At the spill's disk budget the batch is held: nothing is acknowledged, the queues fill and
///   the reader stops (Redis keeps the data) until Postgres or disk space is back.
/// - Other database errors (a missing table, a permission) never spill: the batch is retried
///   with backoff and stays unacknowledged until the cause is fixed.
final class BatchWriterStage: @unchecked Sendable {
    // @unchecked: state confined to the writer's thread.
    let index: Int
    let dsn: String
    let wiring: PipelineWiring
    let health: PostgresHealth
    let spill: SpillAppender?
    let logger: Logger
    /// `postgres.max_write_events`: queued batches merged into one transaction up to this many events.
    var maxWriteEvents = 3000
    /// `server.max_tags_per_producer`, for each writer this stage creates.
    var tagBudgetPerProducer = 100_000
    /// Connectivity retries before a batch is spilled (docs/operations.md, "Postgres outages: the spill").
    var connectivityRetries = 3
    private var writer: EventWriter?
    private var connection: PGConnection?
    private var lastBudgetWarning: Int64 = 0

    init(index: Int, dsn: String, wiring: PipelineWiring, health: PostgresHealth, spill: SpillAppender?, logger: Logger) {
        self.index = index
        self.dsn = dsn
        self.wiring = wiring
        self.health = health
        self.spill = spill
        self.logger = logger
    }

    /// Runs until the batch queue is closed and drained. Batches that queued up while this writer
    /// was busy are merged up to `maxWriteEvents` events: at moderate rates the processor cuts
    /// many small batches (low latency when Postgres keeps up), and merging them keeps one
    /// transaction per round instead of a queue of tiny ones when it does not. Under a backlog the
    /// queue is full whenever a writer is free, so transactions grow to a few batches: Postgres
    /// pays its per-transaction and per-COPY costs (commit, tuple slots for the buffered rows,
    /// partition routing set-up) once for all of them.
    func run() {
        while var batch = wiring.batches.take() {
            while let more = wiring.batches.tryTake(maxWeight: maxWriteEvents - batch.count) { batch.append(contentsOf: more) }
            write(batch)
        }
        connection?.close()
    }

    private func write(_ batch: PendingBatch) {
        var backoff = Backoff(baseMs: 200, maxMs: 5000)
        var connectivityFailures = 0
        while true {
            if health.allowsAttempt() && connectivityFailures <= connectivityRetries {
                do throws(StoreError) {
                    let started = monotonicNanos()
                    let report = try currentWriter().write(batch.events)
                    wiring.metrics.observeWrite(events: batch.count, seconds: Double(monotonicNanos() - started) / 1e9)
                    health.recordSuccess()
                    finish(batch, report)
                    return
                } catch {
                    dropConnection()
                    wiring.metrics.pgErrorsTotal.add(1, ordering: .relaxed)
                    if case .connectivity = error {
                        health.recordFailure(reasonCode: error.reasonCode, serverStarting: error.pgError.isServerStarting)
                        connectivityFailures += 1
                        if connectivityFailures <= connectivityRetries && !wiring.abandon.isSet && health.allowsAttempt() {
                            backoff.pause { logFailure(error, batch: batch, retryMs: $0) }
                            continue
                        }
                        // Out of retries (or the breaker opened): to the spill.
                    } else {
                        // Not connectivity: never spilled (docs/operations.md, "Postgres outages: the spill"). Retried until fixed.
                        if wiring.abandon.isSet { return }
                        backoff.pause { logFailure(error, batch: batch, retryMs: $0) }
                        continue
                    }
                }
            }
            if spillBatch(batch) { return }
            if wiring.abandon.isSet { return }
            // The spill refused (budget or I/O): hold the batch, try Postgres again later.
            connectivityFailures = connectivityRetries
            sleepMs(min(1000, backoff.nextDelayMs()))
        }
    }

    /// Appends the batch to the spill and acknowledges it once fsynced. False when the spill
    /// cannot take it (no spill configured, budget reached, I/O error).
    private func spillBatch(_ batch: PendingBatch) -> Bool {
        guard let spill else { return false }
        do throws(SpillError) {
            let report = try spill.append(batch.events, origins: batch.origins)
            wiring.metrics.spilled(events: batch.count, bytes: report.bytes)
            wiring.metrics.spillBudgetBlocked.store(false, ordering: .relaxed)
            wiring.acks.put(.ack(batch.origins.map(\.entryID)))
            return true
        } catch {
            let now = monotonicNanos()
            if error.isBudgetExceeded {
                wiring.metrics.spillBudgetBlocked.store(true, ordering: .relaxed)
                // One line per 10 s, not one per batch.
                if now - lastBudgetWarning > 10_000_000_000 {
                    lastBudgetWarning = now
                    logger.warning("spill budget reached; holding batches, reading stops until Postgres or disk space is back", metadata: [
                        "event": "infra", "component": "spill", "reason_code": .string(error.reasonCode),
                        "details": .string("\(error)"), "writer": "\(index)",
                    ])
                }
            } else {
                wiring.metrics.spillErrorsTotal.add(1, ordering: .relaxed)
                logger.error("spill write failed; holding the batch", metadata: [
                    "event": "infra", "component": "spill", "reason_code": .string(error.reasonCode),
                    "details": .string("\(error)"), "writer": "\(index)",
                ])
            }
            return false
        }
    }

    /// Acknowledges the committed events and dead-letters the refused ones. The report names
    /// refused events by their index in `batch.events`, the merged batch this writer wrote, and
    /// `batch.origins` holds each one's entry at the same index.
    private func finish(_ batch: PendingBatch, _ report: WriteReport) {
        let events = batch.events, origins = batch.origins
        var ids: [String] = []
        ids.reserveCapacity(events.count)
        // By index: `for event in events` copied every stored event (a retain per field).
        if report.rejected.isEmpty && report.conflicts.isEmpty && report.overBudget.isEmpty {
            ids.append(contentsOf: origins.lazy.map(\.entryID))
        } else {
            var refused = [Bool](repeating: false, count: events.count)
            for r in report.rejected { refused[r.index] = true }
            for c in report.conflicts { refused[c.index] = true }
            for o in report.overBudget { refused[o.index] = true }
            for i in origins.indices where !refused[i] { ids.append(origins[i].entryID) }
        }
        var oldestTs = Int64.max, earliestRead = Int64.max
        for i in events.indices {
            oldestTs = min(oldestTs, events[i].tsMicros)
            if events[i].receivedAtMicros > 0 { earliestRead = min(earliestRead, events[i].receivedAtMicros) }
        }
        if !ids.isEmpty { wiring.acks.put(.ackBatch(ids, readAtMicros: earliestRead == .max ? 0 : earliestRead)) }
        if oldestTs != .max { wiring.metrics.observeDurable(oldestTsMicros: oldestTs) }
        for (i, reason) in report.rejected {
            wiring.acks.put(.deadLetter(DeadLetter(persistFailed: events[i], from: origins[i], detail: reason)))
        }
        for (i, detail) in report.conflicts {
            wiring.acks.put(.deadLetter(DeadLetter(stored: events[i], from: origins[i], reason: .eventIDConflict, detail: detail)))
        }
        for (i, detail) in report.overBudget {
            wiring.acks.put(.deadLetter(DeadLetter(stored: events[i], from: origins[i], reason: .tagBudgetExceeded, detail: detail)))
        }
        wiring.metrics.committed(events: report.inserted, duplicates: report.duplicates)
    }

    private func logFailure(_ error: StoreError, batch: PendingBatch, retryMs: Int) {
        logger.error("batch write failed; retrying", metadata: [
            "event": "infra", "component": "writer", "writer": "\(index)", "events": "\(batch.count)",
            "reason_code": .string(error.reasonCode), "details": .string("\(error)"), "retry_ms": "\(retryMs)",
        ])
    }

    private func dropConnection() {
        connection?.close()
        connection = nil
        writer = nil
    }

    private func currentWriter() throws(StoreError) -> EventWriter {
        if let writer, let connection, connection.isConnected { return writer }
        let c: PGConnection
        do { c = try PGConnection(dsn: dsn, logger: logger) } catch { throw StoreError.connectivityOrDatabase(error) }
        let w = EventWriter(connection: c, logger: logger)
        w.tagBudgetPerProducer = tagBudgetPerProducer
        connection = c
        writer = w
        return w
    }
}

extension DeadLetter {
    /// A row Postgres refused: dead-lettered with the bytes the producer sent.
    init(persistFailed event: StoredEvent, from origin: EventOrigin, detail: String) {
        self.init(stored: event, from: origin, reason: .persistFailed, detail: detail)
    }

    /// A dead letter for an event the store refused, under the entry it came from, with the
    /// bytes the producer sent.
    init(stored event: StoredEvent, from origin: EventOrigin, reason: RejectReason, detail: String) {
        let ref = EntryRef.split(origin.entryID)
        let entry = StreamEntry(id: String(ref.id), shard: ref.shard, payload: event.sourcePayload, token: nil, clientID: origin.dlqID,
                                deliveries: 1, mayBeRedelivery: false, deleted: false)
        self.init(entry: entry, reason: reason, detail: detail, producer: event.producerID)
    }
}
