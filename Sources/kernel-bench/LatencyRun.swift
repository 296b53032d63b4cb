import Foundation
import KernelPostgres

/// Latency at a fixed offered rate.
struct LatencyResult {
    var rate: Int
    var seconds: Double
    var warmupSeconds: Double
    var offeredRate: Double
    var measured: Int
    /// XADD (just before the pipelined send) → `received_at` (when the kernel's reader read the
    /// entry: the processor, the batcher, COPY and COMMIT are not included).
    var toInsert: Percentiles
    /// XADD → first 1 ms watcher sample showing the entry acknowledged (after COMMIT): an upper
    /// bound on XADD→committed.
    var toAck: Percentiles
    /// XADD → the commit of the transaction that stored the entry (`pg_xact_commit_timestamp`),
    /// exact to the microsecond; nil when the server runs without `track_commit_timestamp`.
    var toCommit: Percentiles?
    /// XADD → first sample showing the entry delivered to the kernel (read by XREADGROUP).
    var toRead: Percentiles
    var lateTicks: Int
    var dlq: Int
    var kernelErrors: Int
    var cpuPerMillion: Double
    var hwmKB: Int
    /// Writer transactions that stored the run's trades (distinct `xmin`).
    var transactions: Int
}

/// A paced producer: every 1 ms it XADDs (pipelined) the events due by then at `rate`/s, each
/// a trade whose `trade_id` is `L<sequence>`, and records the wall time just before the send.
struct LatencyRun {
    let environment: BenchEnvironment
    let rate: Int
    let seconds: Double
    let warmupSeconds: Double
    let seed: UInt64

    func run() throws -> LatencyResult {
        let env = environment
        try env.seed(families: ["trade"])
        try env.createGroup()
        let kernel = try env.startKernel()
        defer { kernel.stop() }
        _ = try kernel.waitReady()
        let watcher = AckWatcher(address: env.settings.redisAddr, stream: env.streamKey, group: env.group)
        watcher.start()

        var factory = MarketEventFactory(seed: seed, mix: .tradeOnly, subjects: env.subjects, ids: env.settings.eventIDs)
        let loader = StreamLoader(redis: env.redis, streamKey: env.streamKey, token: env.token)
        let total = Int(Double(rate) * (seconds + warmupSeconds))
        let warmupCount = Int(Double(rate) * warmupSeconds)
        var publishNanos = [Int64](repeating: 0, count: total)
        var ids = [StreamID](repeating: .zero, count: total)
        var sent = 0
        var lateTicks = 0
        let start = BenchClock.wallNanos()
        var tick: Int64 = 0
        var cpuStart = 0
        var measuredStart: Int64 = 0
        while sent < total {
            tick += 1
            let target = start + tick * 1_000_000
            BenchClock.sleep(untilWallNanos: target)
            let now = BenchClock.wallNanos()
            if now - target > 1_000_000 { lateTicks += 1 }
            // Due by now at the offered rate; catching up after a late tick keeps the rate.
            let due = min(total, Int((now - start) * Int64(rate) / 1_000_000_000)) - sent
            guard due > 0 else { continue }
            if sent <= warmupCount && sent + due > warmupCount {
                cpuStart = kernel.cpuTicks() ?? 0
                measuredStart = now
            }
            var commands: [[[UInt8]]] = []
            commands.reserveCapacity(due)
            let sendNanos = BenchClock.wallNanos()
            for i in 0..<due {
                let event = factory.next(tsMicros: sendNanos / 1000, tradeID: "L\(sent + i)")
                commands.append(loader.command(event.envelope))
                publishNanos[sent + i] = sendNanos
            }
            let newIDs = try loader.send(commands)
            for (i, id) in newIDs.enumerated() { ids[sent + i] = id }
            sent += due
        }
        let publishEnd = BenchClock.wallNanos()

        // Wait for everything to be committed and acknowledged.
        let probe = try GroupProbe(address: env.settings.redisAddr, stream: env.streamKey, group: env.group)
        let deadline = BenchClock.now() + 120
        while true {
            let s = try probe.state()
            if s.lag == 0 && s.pending == 0 && s.entriesRead >= total { break }
            guard BenchClock.now() < deadline else { throw BenchError("latency run: not drained after 120 s (pending \(s.pending))") }
            BenchClock.sleep(seconds: 0.005)
        }
        let cpuEnd = kernel.cpuTicks() ?? cpuStart
        // Let the watcher take a sample that shows the last acknowledgement.
        BenchClock.sleep(seconds: 0.02)
        let samples = try watcher.stop()
        let hwm = kernel.memory()?.hwmKB ?? 0
        let errors = kernel.errorLines().count
        kernel.stop()

        // XADD → a time Postgres recorded per row (`micros`: Unix µs), from the trade ids.
        func sinceXADD(_ micros: String) throws -> (rows: PGResult, nanos: [Int64]) {
            let rows = try env.pg.query("""
                SELECT substr(trade_id, 2)::int, (extract(epoch FROM \(micros)) * 1000000)::bigint
                  FROM md_trade WHERE trade_id LIKE 'L%'
                """)
            var nanos: [Int64] = []
            nanos.reserveCapacity(total - warmupCount)
            for row in rows.rows {
                guard let seq = row[0].flatMap({ Int($0) }), let at = row[1].flatMap({ Int64($0) }),
                      seq >= warmupCount, seq < total else { continue }
                nanos.append(at * 1000 - publishNanos[seq])
            }
            return (rows, nanos)
        }
        // XADD → received_at (the kernel's read).
        let (result, toInsert) = try sinceXADD("received_at")
        // XADD → committed, exactly: the commit time Postgres recorded for each row's transaction.
        var toCommit: Percentiles?
        if try env.pg.query("SHOW track_commit_timestamp").scalar == "on" {
            toCommit = Percentiles(try sinceXADD("pg_xact_commit_timestamp(xmin)").nanos)
        }
        // XADD → acknowledged: entries and samples are both in order, so one pass.
        var toAck: [Int64] = []
        toAck.reserveCapacity(total - warmupCount)
        var s = 0
        for seq in warmupCount..<total {
            while s < samples.count && !samples[s].state.hasAcknowledged(ids[seq]) { s += 1 }
            guard s < samples.count else { break }
            toAck.append(samples[s].wallNanos - publishNanos[seq])
        }
        var toRead: [Int64] = []
        toRead.reserveCapacity(total - warmupCount)
        s = 0
        for seq in warmupCount..<total {
            while s < samples.count && samples[s].state.lastDelivered < ids[seq] { s += 1 }
            guard s < samples.count else { break }
            toRead.append(samples[s].wallNanos - publishNanos[seq])
        }
        if let path = ProcessInfo.processInfo.environment["DK_BENCH_LATENCY_CSV"] {
            // Diagnostics: per-event publish time and XADD→insert, for plotting the tail.
            var csv = "seq,publish_unix_ns,to_insert_ns\n"
            for row in result.rows {
                guard let seq = row[0].flatMap({ Int($0) }), let micros = row[1].flatMap({ Int64($0) }), seq < total else { continue }
                csv += "\(seq),\(publishNanos[seq]),\(micros * 1000 - publishNanos[seq])\n"
            }
            try? csv.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let measuredSeconds = Double(publishEnd - measuredStart) / 1e9
        return LatencyResult(
            rate: rate, seconds: seconds, warmupSeconds: warmupSeconds,
            offeredRate: Double(total - warmupCount) / measuredSeconds, measured: total - warmupCount,
            toInsert: Percentiles(toInsert), toAck: Percentiles(toAck), toCommit: toCommit, toRead: Percentiles(toRead), lateTicks: lateTicks,
            dlq: try env.streamLength(env.dlqKey), kernelErrors: errors,
            cpuPerMillion: Double(cpuEnd - cpuStart) / KernelProcess.clockTicksPerSecond / Double(total - warmupCount) * 1e6,
            hwmKB: hwm, transactions: try env.count("SELECT count(DISTINCT xmin::text) FROM md_trade"))
    }
}
