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
    /// CPU of every kernel process together.
    var cpuSeconds: Double
    /// The same per kernel process (one entry per kernel).
    var kernelCPUSeconds: [Double]
    /// Largest VmHWM / sampled VmRSS of any one kernel process.
    var hwmKB: Int
    var maxRSSKB: Int
    var rssAtStartKB: Int
    var kernelErrors: Int
    /// The first error/critical log line of any kernel, to tell a broken run at a glance.
    var firstError: String?
    /// CPU of this database's Postgres backends during the drain (the writes' server side).
    var postgresCPUSeconds: Double
    /// Busy share of all the machine's cores over the drain (/proc/stat), whoever used them.
    var machineBusy: Double
    /// Busy core-seconds of the whole machine over the drain.
    var machineCPUSeconds: Double
    var loadAverage: String
    /// Writer transactions into md_trade (distinct `xmin`), for the average batch size.
    var tradeTransactions: Int
    /// Redis' time per event in XREADGROUP and XACK over the drain (`RedisCommandStats`).
    var redisCost: String = ""
    var kernels: Int { kernelCPUSeconds.count }
    var eventsPerSecond: Double { Double(events) / seconds }
    var rowsPerSecond: Double { Double(rows) / seconds }
    var cpuPerMillion: Double { cpuSeconds / Double(events) * 1e6 }
    var postgresCPUPerMillion: Double { postgresCPUSeconds / Double(events) * 1e6 }
    var machineCPUPerMillion: Double { machineCPUSeconds / Double(events) * 1e6 }
}

/// Preload the stream with `count` events, then start the kernel(s) and time from the first
/// read to the moment the group has no lag and an empty PEL (every event committed, then
/// acknowledged).
///
/// The first read is bracketed by XINFO GROUPS samples 1 ms apart; the start is taken as the
/// last sample that still showed `entries-read` = 0, so the measured interval can only be too
/// long (by ≤ one poll), never too short. The end is the first 5 ms sample showing lag 0 and an
/// empty PEL, again late rather than early.
///
/// With several kernels (one consumer group, distinct consumer names, same database and
/// prefix) the group is held at the end of the stream until every kernel logged "kernel ready",
/// then rewound to 0-0 and woken by the last event's XADD, so all of them start on the backlog
/// together instead of the first one draining it alone while the others start up.
struct DrainRun {
    let environment: BenchEnvironment
    let label: String
    let mix: MarketEventFactory.Mix
    /// Minimal trades (`MarketEventFactory.small`): the backlog scenario.
    var small = false
    let count: Int
    let seed: UInt64
    /// Keep the generated trade rows (returned by `run`) for the raw COPY runs.
    var keepTrades = false
    var kernelCount = 1

    func run() throws -> (DrainResult, [TradeRow]) {
        let env = environment
        try env.seed(families: mix.families)
        try env.createGroup()
        var factory = MarketEventFactory(seed: seed, mix: mix, small: small, subjects: env.subjects, ids: env.settings.eventIDs)
        var trades: [TradeRow] = []
        if keepTrades { trades.reserveCapacity(count) }
        let loader = StreamLoader(redis: env.redis, streamKey: env.streamKey, token: env.token)
        let gated = kernelCount > 1
        let p0 = BenchClock.now()
        var bytes = try loader.preload(count: gated ? count - 1 : count, factory: &factory) { event in
            if keepTrades, let t = event.trade { trades.append(t) }
        }
        // Gated: the last event is held back; its XADD wakes the kernels blocked in XREADGROUP.
        var lastEvent: BenchEvent?
        if gated {
            let event = factory.next(tsMicros: BenchClock.wallNanos() / 1000)
            if keepTrades, let t = event.trade { trades.append(t) }
            bytes += event.envelope.utf8.count
            lastEvent = event
            try env.holdGroup(entries: count - 1)
        }
        let preloadSeconds = BenchClock.now() - p0
        try env.pg.execute("CHECKPOINT")

        let probe = try GroupProbe(address: env.settings.redisAddr, stream: env.streamKey, group: env.group)
        let redisBefore = try RedisCommandStats.read(env.redis)
        var kernels: [KernelProcess] = []
        defer { for k in kernels { k.stop() } }
        for index in 0..<kernelCount { kernels.append(try env.startKernel(index: index)) }
        var postgresStart: [Int32: Int] = [:]
        if let lastEvent {
            for k in kernels { _ = try k.waitReady() }
            postgresStart = try env.backendTicksByPID()
            try env.releaseGroup()
            _ = try loader.send([loader.command(lastEvent.envelope)])
        }
        // Start: poll tightly until the group has read something.
        var lastIdle = BenchClock.now()
        var startCPU = [Int](repeating: 0, count: kernelCount)
        var startRSS = 0
        var startMachine = ProcStat.machineTicks()
        let startDeadline = lastIdle + 120
        while true {
            let before = BenchClock.now()
            let machine = ProcStat.machineTicks()
            let state = try probe.state()
            if state.entriesRead > 0 { break }
            lastIdle = before
            startMachine = machine ?? startMachine
            for (i, k) in kernels.enumerated() { startCPU[i] = k.cpuTicks() ?? startCPU[i] }
            startRSS = kernels.compactMap { $0.memory()?.rssKB }.max() ?? startRSS
            for k in kernels where !k.process.isRunning { throw BenchError("kernel exited during start-up; log:\n\(k.logTail())") }
            guard before < startDeadline else { throw BenchError("kernel read nothing in 120 s; log:\n\(kernels[0].logTail())") }
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
            if now - lastMemory >= 0.1 {
                for k in kernels { if let m = k.memory() { maxRSS = max(maxRSS, m.rssKB) } }
                lastMemory = now
            }
            for k in kernels where !k.process.isRunning { throw BenchError("kernel exited during the drain; log:\n\(k.logTail())") }
            guard now < drainDeadline else {
                throw BenchError("drain not finished after \(Int(now - lastIdle)) s: read \(state.entriesRead), lag \(state.lag.map(String.init) ?? "?"), pending \(state.pending); log:\n\(kernels[0].logTail())")
            }
            BenchClock.sleep(seconds: 0.005)
        }
        let endMachine = ProcStat.machineTicks()
        for k in kernels { try k.verifyPlugins() }
        let redisCost = (try? RedisCommandStats.read(env.redis))?.summary(since: redisBefore, events: count) ?? ""
        let endCPU = kernels.indices.map { kernels[$0].cpuTicksWithChildren() ?? startCPU[$0] }
        // Ungated, backends connect after the first read (writers connect lazily), so their
        // whole CPU time counts, connection set-up included. Gated, the sample taken before the
        // release is subtracted backend by backend.
        let postgresEnd = try env.backendTicksByPID()
        let postgresTicks = postgresEnd.reduce(0) { $0 + $1.value - (postgresStart[$1.key] ?? 0) }
        let load = ProcStat.loadAverage()
        var hwm = 0
        for k in kernels {
            let memory = k.memory() ?? (0, 0)
            maxRSS = max(maxRSS, memory.rssKB)
            hwm = max(hwm, memory.hwmKB)
        }
        let errorLines = kernels.flatMap { $0.errorLines() }
        for k in kernels { k.stop() }

        var machineBusy = 0.0, machineSeconds = 0.0
        if let a = startMachine, let b = endMachine {
            machineBusy = ProcStat.MachineTicks.busyFraction(from: a, to: b)
            machineSeconds = ProcStat.seconds(ticks: b.busy - a.busy)
        }
        let kernelSeconds = startCPU.indices.map { ProcStat.seconds(ticks: endCPU[$0] - startCPU[$0]) }
        let rows = try ["md_trade", "md_quote", "md_book", "events"].reduce(0) { $0 + (try env.rows(in: $1)) }
        let dlq = try env.streamLength(env.dlqKey)
        let result = DrainResult(
            label: label, events: count, rows: rows, dlq: dlq, preloadSeconds: preloadSeconds, preloadBytes: bytes,
            seconds: end - lastIdle, cpuSeconds: kernelSeconds.reduce(0, +), kernelCPUSeconds: kernelSeconds,
            hwmKB: hwm, maxRSSKB: maxRSS, rssAtStartKB: startRSS, kernelErrors: errorLines.count, firstError: errorLines.first,
            postgresCPUSeconds: ProcStat.seconds(ticks: postgresTicks), machineBusy: machineBusy,
            machineCPUSeconds: machineSeconds, loadAverage: load,
            tradeTransactions: try env.rows(in: "md_trade") > 0 ? env.count("SELECT count(DISTINCT xmin::text) FROM md_trade") : 0,
            redisCost: redisCost)
        return (result, trades)
    }
}
