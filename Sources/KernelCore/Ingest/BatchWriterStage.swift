import KernelPostgres
import KernelStore
import Logging

/// One writer thread: takes batches, writes each in one transaction on its own connection, and
/// hands the entry ids to the acknowledger only after COMMIT. Several run in parallel so Postgres
/// writes one batch while the processor prepares the next.
///
/// Connectivity errors are retried with backoff and the batch is never acknowledged until it is
/// durable (the spill for long outages builds on this loop). Rows Postgres refuses for data
/// reasons are dead-lettered as `persist_failed`; the rest of the batch commits.
final class BatchWriterStage: @unchecked Sendable {
    // @unchecked: state confined to the writer's thread.
    let index: Int
    let dsn: String
    let input: BlockingQueue<[StoredEvent]>
    let acks: BlockingQueue<AckWork>
    let metrics: PipelineMetrics
    let abandon: StopFlag
    let logger: Logger
    var maxBatch = 1000
    private var writer: EventWriter?
    private var connection: PGConnection?

    init(index: Int, dsn: String, input: BlockingQueue<[StoredEvent]>, acks: BlockingQueue<AckWork>,
         metrics: PipelineMetrics, abandon: StopFlag, logger: Logger) {
        self.index = index
        self.abandon = abandon
        self.dsn = dsn
        self.input = input
        self.acks = acks
        self.metrics = metrics
        self.logger = logger
    }

    /// Runs until the batch queue is closed and drained. Batches that queued up while this writer
    /// was busy are merged up to `maxBatch` events: at moderate rates the processor cuts many small
    /// batches (low latency when Postgres keeps up), and merging them keeps one transaction per
    /// round instead of a queue of tiny ones when it does not.
    func run() {
        while var batch = input.take() {
            while batch.count < maxBatch, let more = input.tryTake() { batch.append(contentsOf: more) }
            write(batch)
        }
        connection?.close()
    }

    private func write(_ batch: [StoredEvent]) {
        var backoff = Backoff(baseMs: 200, maxMs: 5000)
        while true {
            do {
                let writer = try currentWriter()
                let report = try writer.write(batch)
                let rejected = Set(report.rejected.map(\.entryID))
                var ids: [String] = []
                ids.reserveCapacity(batch.count)
                for event in batch where !rejected.contains(event.entryID) { ids.append(event.entryID) }
                if !ids.isEmpty { acks.put(.ack(ids)) }
                for (entryID, reason) in report.rejected {
                    guard let event = batch.first(where: { $0.entryID == entryID }) else { continue }
                    let entry = StreamEntry(id: entryID, payload: event.sourcePayload, token: nil,
                                            clientID: event.sourceDLQID, deliveries: 1, mayBeRedelivery: false, deleted: false)
                    acks.put(.deadLetter(DeadLetter(entry: entry, reason: .persistFailed, detail: reason)))
                }
                metrics.committed(events: report.inserted, duplicates: report.duplicates)
                return
            } catch {
                metrics.pgErrorsTotal.add(1, ordering: .relaxed)
                if abandon.isSet { return }
                let delay = backoff.nextDelayMs()
                logger.error("batch write failed; retrying", metadata: [
                    "event": "infra", "component": "writer", "writer": "\(index)", "events": "\(batch.count)",
                    "details": .string("\(error)"), "retry_ms": "\(delay)",
                ])
                connection?.close()
                connection = nil
                writer = nil
                sleepMs(delay)
            }
        }
    }

    private func currentWriter() throws -> EventWriter {
        if let writer, let connection, connection.isConnected { return writer }
        let c = try PGConnection(dsn: dsn, logger: logger)
        let w = EventWriter(connection: c, logger: logger)
        connection = c
        writer = w
        return w
    }
}
