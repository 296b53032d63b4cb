import Foundation
import Synchronization
import KernelEvents
import KernelPostgres

/// A partial ceiling, kept for comparison with earlier runs: the generated trade rows
/// binary-COPYed straight into `md_trade` over the same number of connections, one COPY (= one
/// transaction) per `rowsPerTransaction` rows, with no kernel, no staging table and no tag
/// links. Rows are encoded before the clock starts, so this measures what Postgres (and libpq)
/// can take. The full ceiling, with the `event_tags` rows the kernel also writes, is
/// `StoredRowsCopyRun`.
struct RawCopyRun {
    let environment: BenchEnvironment
    let trades: [TradeRow]
    let connections: Int
    let rowsPerTransaction: Int

    static let columns = ["event_id", "row_no", "ts", "ts_event", "subject_id", "producer_id", "schema_id",
                          "venue", "symbol", "price", "size", "side", "trade_id"]

    func run() throws -> (rows: Int, seconds: Double, postgresCPUSeconds: Double) {
        let env = environment
        guard let producer = env.producer, let schemaText = env.schemas["trade"], let schema = EventUUID(schemaText)?.bytes else {
            throw BenchError("raw copy: the environment is not seeded")
        }
        var chunks: [[UInt8]] = []
        var start = 0
        while start < trades.count {
            let end = min(trades.count, start + rowsPerTransaction)
            var encoder = PGBinaryCopyEncoder(reserving: (end - start) * 200)
            for row in trades[start..<end] {
                encoder.beginTuple(fieldCount: Self.columns.count)
                encoder.appendUUID(bytes: row.eventID)
                encoder.appendInt4(0)
                encoder.appendTimestamptz(unixMicros: row.tsMicros)
                if let t = row.tsEventMicros { encoder.appendTimestamptz(unixMicros: t) } else { encoder.appendNull() }
                encoder.appendUUID(bytes: row.subjectID)
                encoder.appendUUID(bytes: producer.bytes)
                encoder.appendUUID(bytes: schema)
                encoder.appendText(row.venue)
                encoder.appendText(row.symbol)
                try encoder.appendNumeric(row.price)
                try encoder.appendNumeric(row.size)
                encoder.appendText(row.side)
                if let id = row.tradeID { encoder.appendText(id) } else { encoder.appendNull() }
            }
            encoder.finish()
            chunks.append(encoder.takeBytes())
            start = end
        }
        // The kernel's rows are removed; indexes and partitions stay as the kernel left them.
        try env.pg.execute("TRUNCATE md_trade")
        try env.pg.execute("CHECKPOINT")
        let sql = "COPY md_trade (\(Self.columns.joined(separator: ", "))) FROM STDIN (FORMAT binary)"
        let work = WorkQueue(chunks)
        let measured = try work.drain(env, connections: connections) { c, chunk in
            try c.copyIn(sql) { writer in try writer.write(chunk) }
        }
        if let failure = work.failure { throw BenchError("raw copy failed: \(failure)") }
        let rows = try env.rows(in: "md_trade")
        return (rows, measured.seconds, measured.postgresCPUSeconds)
    }
}

/// Hands out pre-encoded COPY work to the writer threads.
final class WorkQueue<Item: Sendable>: Sendable {
    private let items: [Item]
    /// The next item to hand out, and the first failure (which stops handing out).
    private let cursor = Mutex<(index: Int, error: String?)>((0, nil))

    init(_ items: [Item]) { self.items = items }

    func next() -> Item? {
        cursor.withLock { cursor in
            guard cursor.error == nil, cursor.index < items.count else { return nil }
            defer { cursor.index += 1 }
            return items[cursor.index]
        }
    }

    func fail(_ message: String) { cursor.withLock { if $0.error == nil { $0.error = message } } }
    var failure: String? { cursor.withLock { $0.error } }

    /// Opens `connections` connections to the bench database, each on its own thread taking
    /// items and passing them to `write` until none are left or one write fails (then `failure`
    /// says why). Returns the wall time and the CPU time of the connections' Postgres backends,
    /// both measured around the writing only: the two copy ceilings are measured the same way.
    func drain(_ env: BenchEnvironment, connections: Int,
               _ write: @escaping @Sendable (PGConnection, Item) throws -> Void) throws -> (seconds: Double, postgresCPUSeconds: Double) {
        var conns: [PGConnection] = []
        for _ in 0..<connections { conns.append(try PGConnection(dsn: env.dsn, logger: env.logger)) }
        defer { for c in conns { c.close() } }
        let backends = conns.map(\.backendPID)
        let ticks0 = backends.compactMap { ProcStat.cpuTicks(pid: $0) }.reduce(0, +)
        let group = DispatchGroup()
        let t0 = BenchClock.now()
        for c in conns {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while let item = self.next() {
                    do { try write(c, item) } catch { self.fail("\(error)"); return }
                }
            }
        }
        group.wait()
        let seconds = BenchClock.now() - t0
        let ticks1 = backends.compactMap { ProcStat.cpuTicks(pid: $0) }.reduce(0, +)
        return (seconds, ProcStat.seconds(ticks: ticks1 - ticks0))
    }
}
