import Foundation

/// `kernel-bench ingest`: the kernel process end to end against the local Redis and Postgres,
/// each scenario in a fresh database and key prefix, with a fixed seed. Prints one table.
struct IngestBench {
    struct Options {
        var settings: BenchEnvironment.Settings
        var tradeEvents = 200_000
        var mixedEvents = 200_000
        var backlogEvents = 1_000_000
        var rate = 10_000
        var latencySeconds = 20.0
        var warmupSeconds = 2.0
        /// The `kernels` scenario runs the trade drain with 1, 2, …, `kernels` kernel processes.
        var kernels = 2
        /// The `isolation` scenario runs the trade drain this many times in each isolation mode.
        var isolationRounds = 2
        /// The `compare` scenario: the kernel binary compared with `settings.kernelBinary`, in
        /// `compareBlocks` blocks of A B B A (`KernelComparison`).
        var compareKernel: String?
        var compareBlocks = 1
        var scenarios: Set<String> = ["drain", "mixed", "generic", "latency", "curve", "backlog", "raw", "kernels", "isolation"]
        /// The `curve` scenario: `postgres.batch_linger_ms` values to compare (nil: the default).
        var curveLingers: [Int]?
        /// The rate the curve's points are fractions of (nil: the trade drain of this run).
        var curveRate: Int?
        var seed: UInt64 = 0x5EED_2026
    }

    let options: Options

    func run() throws {
        let s = options.settings
        print("end-to-end ingest: kernel \(s.kernelBinary); load average at start \(ProcStat.loadAverage())")
        let set = s.overrides.map { " \($0.section).\($0.key)=\($0.value)" }.joined()
        print("  write_connections \(s.writeConnections)\(set.isEmpty ? "" : ";" + set), other keys at their defaults; event ids \(s.eventIDs == .v7 ? "UUIDv7" : "random v4"); seed 0x\(String(options.seed, radix: 16)); "
              + "Redis \(s.redisAddr), Postgres \(redactedDSN(s.adminDSN)); fresh database + key prefix per scenario")
        var drains: [DrainResult] = []
        var raw: (rows: Int, seconds: Double, postgresCPUSeconds: Double)?
        var rawStored: StoredRowsCopyRun.Result?
        /// The same rows with their `event_ids` rows: the Postgres cost of event identity.
        var rawIdentity: StoredRowsCopyRun.Result?
        var scaling: [DrainResult] = []
        var latency: LatencyResult?
        var backlog: DrainResult?
        var isolation: [(mode: String, result: DrainResult)] = []

        if options.scenarios.contains("drain") || options.scenarios.contains("raw") {
            try withEnvironment { env in
                let (result, trades) = try DrainRun(environment: env, label: "trade", mix: .tradeOnly,
                                                    count: options.tradeEvents, seed: options.seed, keepTrades: true).run()
                drains.append(result)
                report(result)
                if options.scenarios.contains("raw") {
                    // Read back what the kernel stored before the md_trade-only run replaces it.
                    let stored = try StoredRows.capture(from: env, table: "md_trade", eventsPerTransaction: nil)
                    print("  kernel stored \(Fmt.grouped(stored.events)) events: \(Fmt.grouped(stored.typedRows)) md_trade rows, "
                          + "\(Fmt.grouped(stored.tagRows)) event_tags rows"
                          + (stored.foreignTagRows > 0 ? " (+ \(stored.foreignTagRows) links of other events, not copied)" : ""))
                    raw = try RawCopyRun(environment: env, trades: trades, connections: s.writeConnections,
                                         rowsPerTransaction: 1000).run()
                    if let raw { print("  raw COPY md_trade only: \(Fmt.grouped(raw.rows)) rows in \(Fmt.fixed(raw.seconds, 2)) s") }
                    let same = try StoredRowsCopyRun(environment: env, stored: stored, connections: s.writeConnections).run()
                    rawStored = same
                    print("  raw COPY same rows: \(Fmt.grouped(same.typedRows)) md_trade + \(Fmt.grouped(same.tagRows)) event_tags rows "
                          + "in \(Fmt.grouped(same.transactions)) transactions, \(Fmt.fixed(same.seconds, 2)) s")
                    var identity = StoredRowsCopyRun(environment: env, stored: stored, connections: s.writeConnections)
                    identity.withIdentity = true
                    let withIDs = try identity.run()
                    rawIdentity = withIDs
                    print("  raw COPY same rows + event_ids: \(Fmt.grouped(stored.identityRows)) identities in the same transactions, "
                          + "\(Fmt.fixed(withIDs.seconds, 2)) s")
                }
            }
        }
        if options.scenarios.contains("mixed") {
            try withEnvironment { env in
                let mix = MarketEventFactory.Mix.mixed
                let (result, _) = try DrainRun(environment: env, label: "mixed \(mix.label)", mix: mix,
                                               count: options.mixedEvents, seed: options.seed &+ 1).run()
                drains.append(result)
                report(result)
            }
        }
        var generic: (drain: DrainResult, rowsOnly: StoredRowsCopyRun.Result)?
        if options.scenarios.contains("generic") {
            // The trade events of the drain with no plugin at all: the family never had one, so
            // its events are stored in the generic `events` table.
            var settings = options.settings
            settings.pluginsDir = NSTemporaryDirectory() + "dk-bench-no-plugins-\(getpid())"
            settings.requirePlugins = false
            try FileManager.default.createDirectory(atPath: settings.pluginsDir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: settings.pluginsDir) }
            let env = try BenchEnvironment(settings: settings)
            defer { env.tearDown() }
            let (result, _) = try DrainRun(environment: env, label: "generic (no plugin)", mix: .tradeOnly,
                                           count: options.tradeEvents, seed: options.seed).run()
            drains.append(result)
            report(result)
            let stored = try StoredRows.capture(from: env, table: "events", eventsPerTransaction: nil)
            let rowsOnly = try StoredRowsCopyRun(environment: env, stored: stored, connections: s.writeConnections, withTags: false).run()
            print("  raw COPY events only (same rows, no event_tags): \(Fmt.grouped(rowsOnly.typedRows)) rows in "
                  + "\(Fmt.grouped(rowsOnly.transactions)) transactions, \(Fmt.fixed(rowsOnly.seconds, 2)) s, "
                  + "Postgres \(Fmt.fixed(rowsOnly.postgresCPUSeconds * 1e6 / Double(max(1, rowsOnly.events)), 2)) core-s/M")
            generic = (result, rowsOnly)
        }
        if options.scenarios.contains("kernels") {
            for n in 1...options.kernels {
                try withEnvironment { env in
                    let (result, _) = try DrainRun(environment: env, label: "trade, \(n) kernel\(n == 1 ? "" : "s")", mix: .tradeOnly,
                                                   count: options.tradeEvents, seed: options.seed, kernelCount: n).run()
                    scaling.append(result)
                    report(result)
                }
            }
        }
        if options.scenarios.contains("isolation") {
            // A B B A …: a drift of the machine falls on both modes alike, and so does the slower
            // second slot of a back-to-back pair (`KernelComparison`).
            for round in 0..<max(1, options.isolationRounds) {
                for mode in round % 2 == 0 ? ["in_process", "process"] : ["process", "in_process"] {
                    var settings = options.settings
                    settings.overrides.append(("plugins", "isolation", mode))
                    let env = try BenchEnvironment(settings: settings)
                    defer { env.tearDown() }
                    let (result, _) = try DrainRun(environment: env, label: "trade, isolation \(mode) #\(round + 1)", mix: .tradeOnly,
                                                   count: options.tradeEvents, seed: options.seed).run()
                    isolation.append((mode, result))
                    report(result)
                }
            }
        }
        if options.scenarios.contains("latency") {
            try withEnvironment { env in
                latency = try LatencyRun(environment: env, rate: options.rate, seconds: options.latencySeconds,
                                         warmupSeconds: options.warmupSeconds, seed: options.seed &+ 2).run()
                if let l = latency { print("  latency run: \(Fmt.grouped(l.measured)) events measured, DLQ \(l.dlq), kernel errors \(l.kernelErrors)") }
            }
        }
        if options.scenarios.contains("curve") {
            try runCurve(drainRate: options.curveRate.map(Double.init) ?? drains.first { $0.label == "trade" }?.eventsPerSecond)
        }
        if options.scenarios.contains("backlog") {
            try withEnvironment { env in
                let (result, _) = try DrainRun(environment: env, label: "backlog (small trades)", mix: .tradeOnly, small: true,
                                               count: options.backlogEvents, seed: options.seed &+ 3).run()
                backlog = result
                report(result)
            }
        }
        if !drains.isEmpty || backlog != nil || latency != nil {
            printTable(drains: drains, backlog: backlog, raw: raw, rawStored: rawStored, rawIdentity: rawIdentity, latency: latency)
        }
        if let generic {
            let ratio = generic.drain.eventsPerSecond / generic.rowsOnly.eventsPerSecond
            print("    generic drain \(Fmt.grouped(Int(generic.drain.eventsPerSecond))) events/s, raw COPY of the same events rows only "
                  + "\(Fmt.grouped(Int(generic.rowsOnly.eventsPerSecond)))/s")
            verdict("generic drain ≥ 0.5 × raw COPY events only", Fmt.fixed(ratio, 2) + "×", ratio >= 0.5)
        }
        printScaling(scaling)
        printIsolation(isolation)
        if options.scenarios.contains("compare"), let other = options.compareKernel {
            try KernelComparison(options: options, other: other, blocks: options.compareBlocks).run()
        }
    }

    /// The trade drain in both isolation modes, and the ratio of the medians (each pair ran
    /// back to back, in one process, on one machine).
    private func printIsolation(_ runs: [(mode: String, result: DrainResult)]) {
        guard !runs.isEmpty else { return }
        func median(_ mode: String) -> Double {
            let rates = runs.filter { $0.mode == mode }.map(\.result.eventsPerSecond).sorted()
            guard !rates.isEmpty else { return 0 }
            return rates.count % 2 == 1 ? rates[rates.count / 2] : (rates[rates.count / 2 - 1] + rates[rates.count / 2]) / 2
        }
        print("")
        print("plugin isolation (trade drain, \(Fmt.grouped(runs[0].result.events)) events per run, runs alternated)")
        for (mode, r) in runs {
            print("  \(mode.padding(10)) \(Fmt.grouped(Int(r.eventsPerSecond)).leftPad(10)) events/s  kernel CPU \(Fmt.fixed(r.cpuPerMillion, 2)) s/M ev  (\(Fmt.fixed(r.seconds, 2)) s, DLQ \(r.dlq), kernel errors \(r.kernelErrors))")
        }
        let a = median("in_process"), b = median("process")
        let ratio = a > 0 ? b / a : 0
        print("  median in_process \(Fmt.grouped(Int(a))) events/s, process \(Fmt.grouped(Int(b))) events/s: process/in_process = \(Fmt.fixed(ratio, 3))")
        print("  (kernel CPU includes the plugin-host children in process mode)")
        verdict("process ≥ 0.85 × in_process (trade drain)", Fmt.fixed(ratio, 2) + "×", ratio >= 0.85)
    }

    /// The latency curve: p50/p99 XADD → committed at 10 %, 30 % and 60 % of the measured trade
    /// drain, with the kernel's CPU per event and the events per transaction at each point; with
    /// `--curve-lingers`, each point once per `postgres.batch_linger_ms` value, alternated.
    private func runCurve(drainRate: Double?) throws {
        guard let drainRate, drainRate > 0 else {
            print("curve: skipped (needs the trade drain in the same run, or --curve-rate)")
            return
        }
        let lingers: [Int?] = options.curveLingers.map { $0.map { Optional($0) } } ?? [nil]
        var rows: [(fraction: Double, linger: Int?, result: LatencyResult)] = []
        for fraction in [0.1, 0.3, 0.6] {
            let rate = max(100, Int(drainRate * fraction))
            for linger in lingers {
                var settings = options.settings
                if let linger { settings.overrides.append(("postgres", "batch_linger_ms", String(linger))) }
                let env = try BenchEnvironment(settings: settings)
                defer { env.tearDown() }
                let result = try LatencyRun(environment: env, rate: rate, seconds: options.latencySeconds,
                                            warmupSeconds: options.warmupSeconds, seed: options.seed &+ 5).run()
                rows.append((fraction, linger, result))
                print("  curve \(Int(fraction * 100)) % (\(Fmt.grouped(rate))/s)\(linger.map { ", linger \($0) ms" } ?? ""): "
                      + "\(Fmt.grouped(result.measured)) events measured, DLQ \(result.dlq), kernel errors \(result.kernelErrors)")
            }
        }
        print("")
        print("latency curve (trade drain \(Fmt.grouped(Int(drainRate)))/s; XADD → committed, or → acknowledged without commit timestamps)")
        print("point   offered/s  linger ms   p50 ms   p99 ms  p99.9 ms  events/txn  kernel CPU s/M")
        for row in rows {
            let p = row.result.toCommit ?? row.result.toAck
            let perTxn = Double(row.result.measured + Int(Double(row.result.rate) * row.result.warmupSeconds)) / Double(max(1, row.result.transactions))
            print([("\(Int(row.fraction * 100)) %").padding(6), Fmt.grouped(row.result.rate).leftPad(10),
                   (row.linger.map(String.init) ?? "default").leftPad(10), p.ms(0.5).leftPad(8), p.ms(0.99).leftPad(8),
                   p.ms(0.999).leftPad(9), Fmt.fixed(perTxn, 1).leftPad(11), Fmt.fixed(row.result.cpuPerMillion, 2).leftPad(15)]
                .joined(separator: " "))
        }
    }

    private func withEnvironment(_ body: (BenchEnvironment) throws -> Void) throws {
        try BenchEnvironment.with(options.settings, body)
    }

    private func report(_ r: DrainResult) {
        print("  \(r.label): preloaded \(Fmt.grouped(r.events)) events (\(Fmt.fixed(Double(r.preloadBytes) / Double(r.events), 0)) B avg) "
              + "in \(Fmt.fixed(r.preloadSeconds, 1)) s; drained in \(Fmt.fixed(r.seconds, 2)) s; rows \(Fmt.grouped(r.rows)); "
              + "DLQ \(r.dlq); kernel errors \(r.kernelErrors); load average \(r.loadAverage); "
              + "machine \(Fmt.fixed(r.machineBusy * 100, 0)) % busy; "
              + "md_trade written in \(Fmt.grouped(r.tradeTransactions)) transactions")
        if !r.redisCost.isEmpty { print("    Redis: \(r.redisCost)") }
        if let line = r.firstError { print("    first kernel error: \(line.prefix(400))") }
    }

    private func printTable(drains: [DrainResult], backlog: DrainResult?, raw: (rows: Int, seconds: Double, postgresCPUSeconds: Double)?,
                            rawStored: StoredRowsCopyRun.Result?, rawIdentity: StoredRowsCopyRun.Result?, latency: LatencyResult?) {
        print("")
        print("drain (preloaded stream; first read → last commit acknowledged)")
        print("scenario                      events       rows  seconds    events/s      rows/s  CPU s/M ev  PG CPU s/M  VmHWM MB  max VmRSS MB  DLQ  busy %")
        for r in drains + (backlog.map { [$0] } ?? []) {
            print([r.label.padding(26), Fmt.grouped(r.events).leftPad(10), Fmt.grouped(r.rows).leftPad(10),
                   Fmt.fixed(r.seconds, 2).leftPad(8), Fmt.grouped(Int(r.eventsPerSecond)).leftPad(11),
                   Fmt.grouped(Int(r.rowsPerSecond)).leftPad(11), Fmt.fixed(r.cpuPerMillion, 2).leftPad(11),
                   Fmt.fixed(r.postgresCPUPerMillion, 2).leftPad(11),
                   Fmt.fixed(Double(r.hwmKB) / 1024, 1).leftPad(9), Fmt.fixed(Double(r.maxRSSKB) / 1024, 1).leftPad(13),
                   String(r.dlq).leftPad(4), Fmt.fixed(r.machineBusy * 100, 0).leftPad(7)].joined(separator: " "))
        }
        let connections = "\(options.settings.writeConnections) connection\(options.settings.writeConnections == 1 ? "" : "s")"
        let conns = "\(connections), 1,000 events per transaction, no kernel"
        if let raw {
            let rate = Double(raw.rows) / raw.seconds
            print(["raw COPY md_trade only".padding(26), Fmt.grouped(raw.rows).leftPad(10), Fmt.grouped(raw.rows).leftPad(10),
                   Fmt.fixed(raw.seconds, 2).leftPad(8), Fmt.grouped(Int(rate)).leftPad(11), Fmt.grouped(Int(rate)).leftPad(11),
                   "-".leftPad(11), Fmt.fixed(raw.postgresCPUSeconds / Double(raw.rows) * 1e6, 2).leftPad(11)]
                .joined(separator: " ") + "   (\(conns); no tags)")
        }
        if let same = rawStored {
            print(["raw COPY same rows".padding(26), Fmt.grouped(same.events).leftPad(10), Fmt.grouped(same.typedRows + same.tagRows).leftPad(10),
                   Fmt.fixed(same.seconds, 2).leftPad(8), Fmt.grouped(Int(same.eventsPerSecond)).leftPad(11),
                   Fmt.grouped(Int(same.rowsPerSecond)).leftPad(11), "-".leftPad(11),
                   Fmt.fixed(same.postgresCPUSeconds / Double(same.events) * 1e6, 2).leftPad(11)]
                .joined(separator: " ")
                + "   (the rows the kernel stored, tags included, in its \(Fmt.grouped(same.transactions)) transactions; "
                + "\(connections), no kernel)")
        }
        if let same = rawStored, let withIDs = rawIdentity {
            let without = same.postgresCPUSeconds / Double(same.events) * 1e6
            let with = withIDs.postgresCPUSeconds / Double(withIDs.events) * 1e6
            print(["raw COPY same rows + ids".padding(26), Fmt.grouped(withIDs.events).leftPad(10),
                   Fmt.grouped(withIDs.typedRows + withIDs.events).leftPad(10), Fmt.fixed(withIDs.seconds, 2).leftPad(8),
                   Fmt.grouped(Int(withIDs.eventsPerSecond)).leftPad(11), "-".leftPad(11), "-".leftPad(11), Fmt.fixed(with, 2).leftPad(11)]
                .joined(separator: " ") + "   (the same, each transaction COPYing its events' event_ids rows first, as the kernel does)")
            print("event identity costs Postgres \(Fmt.fixed(with - without, 2)) core-s per million events "
                  + "(\(Fmt.fixed((with / max(without, 1e-9) - 1) * 100, 0)) % of the rows alone); raw rate with ÷ without: "
                  + Fmt.fixed(withIDs.eventsPerSecond / same.eventsPerSecond, 2))
        }
        if let trade = drains.first(where: { $0.label == "trade" }) {
            if let same = rawStored {
                print("kernel/raw = trade events/s ÷ raw COPY same rows (tags included, no event_ids) events/s: "
                      + Fmt.fixed(trade.eventsPerSecond / same.eventsPerSecond, 2))
            }
            if let raw {
                print("  (against raw COPY md_trade only, generated rows without tags: "
                      + Fmt.fixed(trade.eventsPerSecond / (Double(raw.rows) / raw.seconds), 2) + ")")
            }
        }
        if let l = latency {
            print("")
            print("latency at \(Fmt.grouped(l.rate)) events/s offered (measured \(Fmt.fixed(l.seconds, 0)) s after \(Fmt.fixed(l.warmupSeconds, 0)) s warm-up; "
                  + "achieved \(Fmt.grouped(Int(l.offeredRate)))/s; \(l.lateTicks) publisher ticks > 1 ms late)")
            print("measure                                  n      p50 ms   p99 ms  p99.9 ms   max ms")
            var rows = [("XADD → read by the kernel", l.toRead), ("XADD → received_at (kernel read)", l.toInsert)]
            if let committed = l.toCommit { rows.append(("XADD → committed (commit timestamp)", committed)) }
            rows.append(("XADD → acknowledged (1 ms samples)", l.toAck))
            for (name, p) in rows {
                print([name.padding(36), Fmt.grouped(p.count).leftPad(9), p.ms(0.5).leftPad(9), p.ms(0.99).leftPad(8),
                       p.ms(0.999).leftPad(9), p.ms(1.0).leftPad(8)].joined(separator: " "))
            }
            print("writer transactions: \(Fmt.grouped(l.transactions)) (\(Fmt.fixed(Double(l.measured + Int(Double(l.rate) * l.warmupSeconds)) / Double(max(1, l.transactions)), 1)) events each on average)")
            print("kernel CPU during the latency run: \(Fmt.fixed(l.cpuPerMillion, 2)) s per million events; VmHWM \(Fmt.fixed(Double(l.hwmKB) / 1024, 1)) MB")
        }
        print("")
        print("targets (performance II: ratios inside this run; absolute rates differ between machines)")
        if let trade = drains.first(where: { $0.label == "trade" }) {
            print("    trade drain \(Fmt.grouped(Int(trade.eventsPerSecond))) events/s")
            if let raw {
                let ratio = trade.eventsPerSecond / (Double(raw.rows) / raw.seconds)
                verdict("trade drain ≥ 0.5 × raw COPY md_trade only", Fmt.fixed(ratio, 2) + "×", ratio >= 0.5)
            }
            if let same = rawStored {
                print("    (against raw COPY of the same rows, tags included: \(Fmt.fixed(trade.eventsPerSecond / same.eventsPerSecond, 2))×)")
            }
            verdict("kernel ≤ 5 core-s per million (trade drain)", Fmt.fixed(trade.cpuPerMillion, 2), trade.cpuPerMillion <= 5)
        }
        if let l = latency {
            verdict("kernel ≤ 15 core-s per million at \(Fmt.grouped(l.rate))/s", Fmt.fixed(l.cpuPerMillion, 2), l.cpuPerMillion <= 15)
        }
        if let l = latency, let committed = l.toCommit, let p99 = committed.value(0.99) {
            // The target's own measure, exact: each row's transaction commit time.
            verdict("p99 ≤ 15 ms at 10k/s (XADD → committed)", Fmt.fixed(Double(p99) / 1e6, 2) + " ms", Double(p99) <= 15e6)
            print("    (XADD → acknowledged p99: \(l.toAck.ms(0.99)) ms, as seen by a watcher sampling the group every ~1 ms)")
        } else if let l = latency, let p99 = l.toAck.value(0.99) {
            // Without commit timestamps: judged on the upper bound; the lower bound (insert) beside it.
            verdict("p99 ≤ 15 ms at 10k/s (XADD → acknowledged)", Fmt.fixed(Double(p99) / 1e6, 2) + " ms", Double(p99) <= 15e6)
            print("    (XADD → received_at p99: \(l.toInsert.ms(0.99)) ms, a lower bound on XADD → committed; "
                  + "set track_commit_timestamp = on for the exact figure)")
        }
        if let b = backlog {
            let peak = Double(max(b.hwmKB, b.maxRSSKB)) / 1024
            verdict("RSS ≤ 150 MB with 5M backlog (ran \(Fmt.grouped(b.events)))", Fmt.fixed(peak, 1) + " MB peak", peak <= 150)
        }
    }

    /// The `kernels` scenario: throughput with 1…N kernels against one Postgres, and whether the
    /// machine's CPU was the limit.
    private func printScaling(_ runs: [DrainResult]) {
        guard let base = runs.first else { return }
        let cores = Int(ProcessInfo.processInfo.activeProcessorCount)
        print("")
        print("kernels sharing one consumer group and one Postgres (trade drain, \(Fmt.grouped(base.events)) events per run, "
              + "write_connections \(options.settings.writeConnections) per kernel; CPU in core-seconds per million events)")
        print("kernels    events/s   × 1 kernel  kernel CPU s/M (each)        PG CPU s/M  machine busy  machine CPU s/M  other s/M  load")
        for r in runs {
            let each = r.kernelCPUSeconds.map { Fmt.fixed($0 / Double(r.events) * 1e6, 1) }.joined(separator: "+")
            let other = r.machineCPUPerMillion - r.cpuPerMillion - r.postgresCPUPerMillion
            print([String(r.kernels).leftPad(7), Fmt.grouped(Int(r.eventsPerSecond)).leftPad(11),
                   Fmt.fixed(r.eventsPerSecond / base.eventsPerSecond, 2).leftPad(12),
                   (Fmt.fixed(r.cpuPerMillion, 1) + " (" + each + ")").padding(28),
                   Fmt.fixed(r.postgresCPUPerMillion, 1).leftPad(10), (Fmt.fixed(r.machineBusy * 100, 0) + " %").leftPad(13),
                   Fmt.fixed(r.machineCPUPerMillion, 1).leftPad(16), Fmt.fixed(other, 1).leftPad(10), r.loadAverage.leftPad(5)]
                .joined(separator: " "))
        }
        for r in runs {
            let share = r.machineCPUSeconds > 0 ? r.postgresCPUSeconds / r.machineCPUSeconds * 100 : 0
            let kernelShare = r.machineCPUSeconds > 0 ? r.cpuSeconds / r.machineCPUSeconds * 100 : 0
            var line = "  \(r.kernels) kernel\(r.kernels == 1 ? "" : "s"): \(Fmt.grouped(Int(r.eventsPerSecond)))/s, "
                + "machine \(Fmt.fixed(r.machineBusy * 100, 0)) % busy on \(cores) cores"
            if r.machineBusy >= 0.9 {
                line += " → CPU-bound on this \(cores)-core machine"
            } else {
                line += " → not CPU-bound: the limit is elsewhere (commits/WAL, locks, Redis round trips)"
            }
            line += "; of the busy CPU the kernels used \(Fmt.fixed(kernelShare, 0)) %, their Postgres backends \(Fmt.fixed(share, 0)) %"
            if r.dlq > 0 { line += " (INVALID: \(r.dlq) events dead-lettered)" }
            if r.kernelErrors > 0 { line += " (\(r.kernelErrors) kernel error lines: see above)" }
            print(line)
        }
    }

    private func verdict(_ target: String, _ measured: String, _ met: Bool) {
        print("  \(target.padding(52)) \(measured.leftPad(12))  \(met ? "met" : "NOT MET")")
    }

    private func redactedDSN(_ dsn: String) -> String {
        guard var c = URLComponents(string: dsn) else { return "(dsn)" }
        if c.password != nil { c.password = "***" }
        return c.string ?? "(dsn)"
    }
}
