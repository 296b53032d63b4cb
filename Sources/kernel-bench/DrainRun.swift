import KernelPostgres

/// What one drain measured.
struct DrainResult {
    var label: String
    var events: Int
    var rows: Int
    var dlq: Int
    var preloadSeconds: Double
    var preloadBytes: Int
    /// First read to fully acknowledged (every commit done).
    var seconds: Double
    var cpuSeconds: Double
    var hwmKB: Int
    var maxRSSKB: Int
    var rssAtStartKB: Int
    var kernelErrors: Int
    /// CPU of this database's Postgres backends during the drain (the writes' server side).
    var postgresCPUSeconds: Double
    var loadAverage: String
    /// Writer transactions into md_trade (distinct `received_at`), for the average batch size.
    var tradeTransactions: Int
    var eventsPerSecond: Double { Double(events) / seconds }
    var rowsPerSecond: Double { Double(rows) / seconds }
    var cpuPerMillion: Double { cpuSeconds / Double(events) * 1e6 }
    var postgresCPUPerMillion: Double { postgresCPUSeconds / Double(events) * 1e6 }
}

/// Preload the stream with `count` events, then start the kernel and time it from the first
/// read to the moment the group has no lag and an empty PEL (every event committed, then
/// acknowledged).
///
/// The first read is bracketed by XINFO GROUPS samples 1 ms apart; the start is taken as the
/// last sample that still showed `entries-read` = 0, so the measured interval can only be too
/// long (by ≤ one poll), never too short. The end is the first 5 ms sample showing lag 0 and an
/// empty PEL, again late rather than early.
struct DrainRun {
    let environment: BenchEnvironment
    let label: String
    let mix: MarketEventFactory.Mix
    let small: Bool
    let count: Int
    let seed: UInt64
    let keepTrades: Bool

    func run() throws -> (DrainResult, [TradeRow]) {
        let env = environment
        try env.seed(families: mix.families)
        try env.createGroup()
        var factory = MarketEventFactory(seed: seed, mix: mix, small: small, subjects: env.subjects)
        var trades: [TradeRow] = []
        if keepTrades { trades.reserveCapacity(count) }
        let loader = StreamLoader(redis: env.redis, streamKey: env.streamKey, token: env.token)
        let p0 = BenchClock.now()
        let bytes = try loader.preload(count: count, factory: &factory) { event in
            if keepTrades, let t = event.trade { trades.append(t) }
        }
        let preloadSeconds = BenchClock.now() - p0
        try env.pg.execute("CHECKPOINT")

        let probe = try GroupProbe(address: env.settings.redisAddr, stream: env.streamKey, group: env.group)
        let kernel = try env.startKernel()
        defer { kernel.stop() }
        // Start: poll tightly until the group has read something.
        var lastIdle = BenchClock.now()
        var startCPU = 0
        var startRSS = 0
        let startDeadline = lastIdle + 120
        while true {
            let before = BenchClock.now()
            let state = try probe.state()
            if state.entriesRead > 0 { break }
            lastIdle = before
            startCPU = kernel.cpuTicks() ?? startCPU
            startRSS = kernel.memory()?.rssKB ?? startRSS
            guard kernel.process.isRunning else { throw BenchError("kernel exited during start-up; log:\n\(kernel.logTail())") }
            guard before < startDeadline else { throw BenchError("kernel read nothing in 120 s; log:\n\(kernel.logTail())") }
            BenchClock.sleep(seconds: 0.001)
        }
        // Drain: poll every 5 ms; sample memory every ~100 ms.
        var maxRSS = 0
        var lastMemory = 0.0
        var end = 0.0
        let drainDeadline = BenchClock.now() + max(300, Double(count) / 2_000)
        while true {
            let state = try probe.state()
            let now = BenchClock.now()
            if state.lag == 0 && state.pending == 0 && state.entriesRead >= count { end = now; break }
            if now - lastMemory >= 0.1, let m = kernel.memory() { maxRSS = max(maxRSS, m.rssKB); lastMemory = now }
            guard kernel.process.isRunning else { throw BenchError("kernel exited during the drain; log:\n\(kernel.logTail())") }
            guard now < drainDeadline else {
                throw BenchError("drain not finished after \(Int(now - lastIdle)) s: read \(state.entriesRead), lag \(state.lag.map(String.init) ?? "?"), pending \(state.pending); log:\n\(kernel.logTail())")
            }
            BenchClock.sleep(seconds: 0.005)
        }
        let endCPU = kernel.cpuTicks() ?? startCPU
        // Backends connect after the first read (writers connect lazily), so their whole CPU
        // time counts; connection set-up is the only extra.
        let postgresTicks = try env.backendTicks()
        let load = ProcStat.loadAverage()
        let memory = kernel.memory() ?? (0, 0)
        maxRSS = max(maxRSS, memory.rssKB)
        let errors = kernel.errorLines().count
        kernel.stop()

        let rows = try ["md_trade", "md_quote", "md_book", "events"].reduce(0) { $0 + (try env.rows(in: $1)) }
        let dlq = try env.streamLength(env.dlqKey)
        let result = DrainResult(
            label: label, events: count, rows: rows, dlq: dlq, preloadSeconds: preloadSeconds, preloadBytes: bytes,
            seconds: end - lastIdle, cpuSeconds: Double(endCPU - startCPU) / KernelProcess.clockTicksPerSecond,
            hwmKB: memory.hwmKB, maxRSSKB: maxRSS, rssAtStartKB: startRSS, kernelErrors: errors,
            postgresCPUSeconds: ProcStat.seconds(ticks: postgresTicks), loadAverage: load,
            tradeTransactions: try env.rows(in: "md_trade") > 0 ? env.count("SELECT count(DISTINCT received_at) FROM md_trade") : 0)
        return (result, trades)
    }
}
