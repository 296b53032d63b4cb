import Foundation
import KernelEvents
import KernelPostgres
import KernelRedis
import KernelSpill
import Testing

/// The spill end to end (docs/operations.md, "Postgres outages: the spill"): Postgres really stops (`pg_ctl stop -m immediate` on a cluster of the
/// test's own), the kernel spills and acknowledges, and when Postgres is back everything is
/// replayed exactly once and the spill directory ends empty. The kernel is a real child process.
@Suite("Spill: Postgres outages", .serialized)
struct SpillOutageTests {
    /// A harness on its own Postgres, configured to open the breaker fast and replay often.
    func makeHarness(_ server: PrivatePostgres, spill: [String] = []) throws -> IngestHarness {
        let h = try IngestHarness(adminDSN: server.adminDSN)
        h.postgresLines = ["circuit_breaker_threshold: 2", "circuit_breaker_timeout_seconds: 1", "connect_timeout_ms: 1000"]
        h.spillLines = ["replay_interval_ms: 200", "segment_bytes: 65536"] + spill
        return h
    }

    /// Publishes on `redis` (default: the harness's connection, which only the test's own thread
    /// may use: a hiredis connection is not thread-safe).
    func publishTrades(_ h: IngestHarness, subject: EventUUID, token: String, from start: Int, count: Int,
                       redis: RedisConnection? = nil) throws {
        let redis = redis ?? h.redis
        var commands: [[[UInt8]]] = []
        for i in start..<(start + count) {
            let payload = IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(100 + i % 50).25","size":"\#(1 + i)"}"#)
            commands.append(["XADD", h.streamKey, "*", "payload", payload, "token", token].map { Array($0.utf8) })
            if commands.count == 200 {
                _ = try redis.pipeline(commands)
                commands.removeAll()
            }
        }
        if !commands.isEmpty { _ = try redis.pipeline(commands) }
    }

    func segments(_ h: IngestHarness) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: h.dir + "/spill")) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
    }

    func spillBytes(_ h: IngestHarness) -> Int {
        segments(h).reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: h.dir + "/spill/" + name)[.size] as? Int) ?? 0
            return total + (size ?? 0)
        }
    }

    /// Counts rows once Postgres answers again (the harness connection died with the server).
    func storedTrades(_ h: IngestHarness) throws -> Int {
        if (try? h.count("SELECT 1")) != 1 { try h.reconnectPostgres() }
        return try h.count("SELECT count(*) FROM md_trade")
    }

    /// Runs `body` with a Postgres of the test's own, a harness on it (`makeHarness`) and a bound
    /// producer's subject and token; tears the harness down, then the server.
    func withOutageHarness(spill: [String] = [],
                           _ body: (PrivatePostgres, IngestHarness, EventUUID, String) throws -> Void) throws {
        let server = try PrivatePostgres()
        defer { server.destroy() }
        let h = try makeHarness(server, spill: spill)
        defer { h.tearDown() }
        let (_, subject, _, token) = try h.boundProducer()
        try body(server, h, subject, token)
    }

    /// Publishes trades `0..<count` while Postgres is up and waits until all are stored.
    func publishStoredBeforeTheOutage(_ h: IngestHarness, subject: EventUUID, token: String, count: Int) throws {
        try publishTrades(h, subject: subject, token: token, from: 0, count: count)
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") == count })
    }

    @Test func postgresStopsUnderLoadEventsSpillThenReplayExactlyOnce() throws {
        try withOutageHarness { server, h, subject, token in
            let kernel = try h.startProcess(yaml: h.yaml(batchSize: 200, batchMaxWaitMs: 50))
            defer { kernel.terminate(); kernel.waitUntilExit() }
            try publishStoredBeforeTheOutage(h, subject: subject, token: token, count: 2000)

            // The outage, under load: publishing goes on while Postgres is down.
            let publisher = Thread {
                // Its own connection: a hiredis connection is not thread-safe.
                guard let publisherRedis = try? RedisConnection(endpoint: RedisConnection.Endpoint(address: IngestHarness.redisAddr)!,
                                                                timeoutMs: 5000) else { return }
                defer { publisherRedis.close() }
                for chunk in 0..<20 {
                    try? publishTrades(h, subject: subject, token: token, from: 2000 + chunk * 150, count: 150, redis: publisherRedis)
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            publisher.start()
            try server.stopImmediate()
            #expect(h.waitUntil(timeout: 60) { try h.redis.command(["XLEN", h.streamKey]).integer == 5000 })
            // Every entry is acknowledged while Postgres is down: the spill holds them.
            #expect(h.waitUntil(timeout: 60) { try h.pendingCount() == 0 }, "pending \((try? h.pendingCount()) ?? -1)")
            #expect(!segments(h).isEmpty, "the spill holds segments while Postgres is down")
            #expect(kernel.isRunning)

            try server.start()
            #expect(h.waitUntil(timeout: 90) { try storedTrades(h) == 5000 && segments(h).isEmpty },
                    "stored \((try? storedTrades(h)) ?? -1), segments \(segments(h))")
            #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_trade") == 5000, "no event stored twice")
            #expect(try h.deadLetters().isEmpty)
            #expect(kernel.isRunning, "the kernel never exited")
            let log = h.logLines().joined(separator: "\n")
            #expect(log.contains("circuit open"))
            #expect(log.contains("spill segment replayed"))
        }
    }

    /// `received_at` is when the kernel read the event, kept through spill and replay: a spilled
    /// event's receive time is before Postgres came back (it used to be the replay's `now()`).
    @Test func aSpilledEventKeepsTheTimeItWasReceived() throws {
        try withOutageHarness { server, h, subject, token in
            let kernel = try h.startProcess(yaml: h.yaml(batchSize: 50, batchMaxWaitMs: 20))
            defer { kernel.terminate(); kernel.waitUntilExit() }
            try publishStoredBeforeTheOutage(h, subject: subject, token: token, count: 10)
            try server.stopImmediate()
            let publishedAt = Date()
            try publishTrades(h, subject: subject, token: token, from: 10, count: 200)
            #expect(h.waitUntil(timeout: 60) { try h.pendingCount() == 0 && !segments(h).isEmpty }, "spilled and acknowledged")
            Thread.sleep(forTimeInterval: 1.5)
            let restartedAt = Date()
            try server.start()
            #expect(h.waitUntil(timeout: 90) { try storedTrades(h) == 210 && segments(h).isEmpty })
            let micros = { (d: Date) in Int64(d.timeIntervalSince1970 * 1_000_000) }
            let latest = try h.count("SELECT (extract(epoch FROM max(received_at)) * 1000000)::bigint FROM md_trade")
            let earliestSpilled = try h.count(
                "SELECT (extract(epoch FROM min(received_at)) * 1000000)::bigint FROM md_trade WHERE size > 11")
            #expect(latest < micros(restartedAt), "received_at \(latest) is before Postgres came back (\(micros(restartedAt)))")
            #expect(earliestSpilled >= micros(publishedAt) - 1_000_000, "and not before the events were published")
        }
    }

    /// A segment left open reads as the append of a process that died, where a cut end would pass
    /// for a torn tail; a clean stop seals it (docs/spill.md, "The seal").
    @Test func aCleanStopDuringAnOutageLeavesEverySegmentSealed() throws {
        try withOutageHarness { server, h, subject, token in
            let kernel = try h.startProcess(yaml: h.yaml(batchSize: 200, batchMaxWaitMs: 50))
            defer { if kernel.isRunning { kernel.terminate() }; kernel.waitUntilExit() }
            try publishStoredBeforeTheOutage(h, subject: subject, token: token, count: 100)
            try server.stopImmediate()
            try publishTrades(h, subject: subject, token: token, from: 100, count: 1000)
            #expect(h.waitUntil(timeout: 60) { try h.pendingCount() == 0 && !segments(h).isEmpty }, "pending \((try? h.pendingCount()) ?? -1)")
            kernel.terminate()
            kernel.waitUntilExit()
            #expect(kernel.terminationStatus == 0)
            var sealedRecords: Int64 = 0
            for name in segments(h) {
                let reader = try SpillSegmentReader(path: h.dir + "/spill/" + name)
                guard case let .sealed(length, records) = reader.seal else {
                    Issue.record("\(name) is not sealed: \(reader.seal)")
                    continue
                }
                #expect(length == reader.fileSize)
                sealedRecords += records
            }
            #expect(sealedRecords == 1000, "every acknowledged event is in a sealed segment")
        }
    }

    @Test func killMinus9WhileSpillingAndWhileReplayingLosesAndDuplicatesNothing() throws {
        try withOutageHarness { server, h, subject, token in
            let yaml = h.yaml(batchSize: 200, batchMaxWaitMs: 50)
            let first = try h.startProcess(yaml: yaml)
            try publishStoredBeforeTheOutage(h, subject: subject, token: token, count: 1)
            try server.stopImmediate()
            try publishTrades(h, subject: subject, token: token, from: 1, count: 12_000)
            // Kill it mid-spill: some batches spilled and acknowledged, others not yet.
            #expect(h.waitUntil(timeout: 60) { spillBytes(h) > 0 })
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            let pendingAfterKill = try h.pendingCount()

            // Postgres back; a new kernel replays the spill and the redelivered entries…
            try server.start()
            let second = try h.startProcess(yaml: yaml)
            // …and is killed while replaying: rows are landing and segments remain.
            let replaying = h.waitUntil(timeout: 60) { (try storedTrades(h)) > 1 && !segments(h).isEmpty }
            kill(second.processIdentifier, SIGKILL)
            second.waitUntilExit()

            let third = try h.startProcess(yaml: yaml)
            defer { third.terminate(); third.waitUntilExit() }
            #expect(h.waitUntil(timeout: 120) { try storedTrades(h) == 12_001 && segments(h).isEmpty && h.pendingCount() == 0 },
                    "stored \((try? storedTrades(h)) ?? -1), segments \(segments(h)), pending after first kill \(pendingAfterKill), killed while replaying: \(replaying)")
            #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_trade") == 12_001, "no event stored twice")
            let letters = try h.deadLetters()
            #expect(letters.isEmpty, "dead letters: \(Dictionary(grouping: letters, by: \.reason).mapValues(\.count)) \(letters.first.map { $0.detail } ?? "")")
        }
    }

    @Test func atTheDiskBudgetNothingIsLostAndReadingResumesWhenSpaceReturns() throws {
        // Room for a few batches only.
        try withOutageHarness(spill: ["max_bytes: 65536"]) { server, h, subject, token in
            h.spillLines = ["replay_interval_ms: 200", "segment_bytes: 16384", "max_bytes: 65536"]
            let kernel = try h.startProcess(yaml: h.yaml(batchSize: 50, batchMaxWaitMs: 20, queueSize: 100))
            defer { kernel.terminate(); kernel.waitUntilExit() }
            try publishStoredBeforeTheOutage(h, subject: subject, token: token, count: 1)
            try server.stopImmediate()
            try publishTrades(h, subject: subject, token: token, from: 1, count: 3000)
            #expect(h.waitUntil(timeout: 60) { h.logLines().contains { $0.contains("spill budget reached") } })
            Thread.sleep(forTimeInterval: 1)
            // Held, not dropped: the kernel stopped acknowledging and reading; Redis keeps the rest.
            let spilled = spillBytes(h)
            #expect(spilled <= 65536, "spill \(spilled) bytes within the budget")
            let info = try h.redis.command(["XINFO", "GROUPS", h.streamKey]).array?.first?.array ?? []
            var read = -1
            var i = 0
            while i + 1 < info.count { if info[i].text == "entries-read" { read = Int(info[i + 1].integer ?? -1) }; i += 2 }
            #expect(read < 3001, "the reader stopped (read \(read) of 3001)")
            #expect(try h.deadLetters().isEmpty)

            try server.start()
            #expect(h.waitUntil(timeout: 120) { try storedTrades(h) == 3001 && segments(h).isEmpty && h.pendingCount() == 0 },
                    "stored \((try? storedTrades(h)) ?? -1)")
            #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_trade") == 3001)
            #expect(kernel.isRunning)
        }
    }
}

/// A data error inside a batch during normal operation: only that row is dead-lettered.
@Suite("Spill: data errors never spill")
struct DataErrorTests {
    @Test func aRowPostgresRefusesIsDeadLetteredAloneAndTheRestCommits() throws {
        try IngestHarness.withRunningKernel(batchSize: 100, batchMaxWaitMs: 500) { h, bound, _ in
            let (_, subject, _, token) = bound
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"1","size":"1"}"#), token: token)
            #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 })
            // A constraint the kernel cannot know about: Postgres refuses one row for data reasons.
            try h.pg.execute("ALTER TABLE md_trade ADD CONSTRAINT no_666 CHECK (price <> 666)")
            var commands: [[[UInt8]]] = []
            for i in 0..<50 {
                let price = i == 17 ? "666" : "\(200 + i)"
                let payload = IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(price)","size":"1"}"#)
                commands.append(["XADD", h.streamKey, "*", "payload", payload, "token", token, "id", "client-\(i)"].map { Array($0.utf8) })
            }
            _ = try h.redis.pipeline(commands)
            #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 50 && h.pendingCount() == 0 })
            let letters = try h.deadLetters()
            #expect(letters.count == 1)
            #expect(letters.first?.reason == "persist_failed")
            #expect(letters.first?.id == "client-17")
            #expect(letters.first?.detail.contains("no_666") == true)
            #expect(letters.first?.payload.contains("666") == true)
            #expect(try h.count("SELECT count(*) FROM md_trade WHERE price = 666") == 0)
            #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_trade") == 50)
        }
    }
}

/// `/readyz` follows Postgres: not ready while it is down (the kernel spills), ready when it is
/// back; `/metrics` shows the breaker and the spill meanwhile.
@Suite("Readiness during an outage", .serialized)
struct ReadinessOutageTests {
    func get(_ port: Int, _ path: String) -> (status: Int, body: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "-m", "5", "-o", "-", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"]
        let out = Pipe()
        p.standardOutput = out
        guard (try? p.run()) != nil else { return (0, "") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func readyzTurnsNotReadyWhenPostgresStopsAndReadyWhenItIsBack() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else {
            Issue.record("curl is needed for this test (apt-get install curl)")
            return
        }
        let server = try PrivatePostgres()
        defer { server.destroy() }
        let h = try IngestHarness(adminDSN: server.adminDSN)
        h.postgresLines = ["circuit_breaker_threshold: 1", "circuit_breaker_timeout_seconds: 1", "connect_timeout_ms: 1000"]
        h.spillLines = ["replay_interval_ms: 200"]
        defer { h.tearDown() }
        let daemon = try h.startDaemon()
        defer { daemon.stop() }
        let port = try #require(daemon.adminPort)
        #expect(get(port, "/healthz").status == 200)
        #expect(h.waitUntil(timeout: 10) { get(port, "/readyz").status == 200 })

        try server.stopImmediate()
        #expect(h.waitUntil(timeout: 20) { get(port, "/readyz").status == 503 }, "\(get(port, "/readyz"))")
        #expect(get(port, "/healthz").status == 200, "alive while not ready")

        try server.start()
        #expect(h.waitUntil(timeout: 30) { get(port, "/readyz").status == 200 }, "\(get(port, "/readyz"))")
        let metrics = get(port, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("kernel_pg_circuit_state"))
        #expect(metrics.body.contains("kernel_spill_files"))
        #expect(metrics.body.contains("kernel_redis_read_total"))
    }
}
/// Outage hygiene: Postgres stops for 12 s under 2,000 events/s, longer than the binding cache
/// (2 s here), so lookups have to be answered while it is down. `DK_OUTAGE_SECONDS` and
/// `DK_OUTAGE_RATE` run the same test longer and faster (the 60 s at 5,000 events/s of
/// docs/verification.md), too long for every CI run. One connection attempt per
/// backoff period (not per event), the failure logged once per interval with a count, the spill
/// keeping pace with the stream, and the spill empty soon after Postgres is back.
@Suite("Outage hygiene", .serialized)
struct OutageHygieneTests {
    @Test func aPostgresStopLogsOncePerIntervalKeepsPaceAndEmptiesTheSpillSoonAfter() throws {
        let server = try PrivatePostgres()
        defer { server.destroy() }
        let h = try IngestHarness(adminDSN: server.adminDSN)
        defer { h.tearDown() }
        h.postgresLines = ["circuit_breaker_threshold: 2", "circuit_breaker_timeout_seconds: 30", "connect_timeout_ms: 1000"]
        h.spillLines = ["replay_interval_ms: 200"]
        h.extraYAML["performance"] = "{binding_cache_seconds: 2}"
        let (_, subject, _, token) = try h.boundProducer()
        let kernel = try h.startProcess(yaml: h.yaml(batchSize: 200, batchMaxWaitMs: 20))
        defer { kernel.terminate(); kernel.waitUntilExit() }
        let outage = SpillOutageTests()
        try outage.publishTrades(h, subject: subject, token: token, from: 0, count: 200)
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") == 200 })

        let env = ProcessInfo.processInfo.environment
        let outageSeconds = env["DK_OUTAGE_SECONDS"].flatMap(Int.init) ?? 12
        let rate = env["DK_OUTAGE_RATE"].flatMap(Int.init) ?? 2000
        let perTick = rate / 10, ticks = (outageSeconds + 4) * 10
        let total = 200 + perTick * ticks
        let publisher = Thread {
            guard let redis = try? RedisConnection(endpoint: RedisConnection.Endpoint(address: IngestHarness.redisAddr)!,
                                                   timeoutMs: 5000) else { return }
            defer { redis.close() }
            let started = Date()
            for tick in 0..<ticks {   // rate / 10 events every 100 ms, from 1 s before the stop to 3 s after
                let due = started.addingTimeInterval(Double(tick) / 10)
                if due.timeIntervalSinceNow > 0 { Thread.sleep(forTimeInterval: due.timeIntervalSinceNow) }
                try? outage.publishTrades(h, subject: subject, token: token, from: 200 + tick * perTick, count: perTick, redis: redis)
            }
        }
        publisher.start()
        Thread.sleep(forTimeInterval: 1)
        try server.stopImmediate()
        var worstLag = 0
        let down = Date()
        while Date().timeIntervalSince(down) < Double(outageSeconds) {
            Thread.sleep(forTimeInterval: 0.5)
            worstLag = max(worstLag, try lag(h))
        }
        try server.start()
        let back = Date()
        #expect(h.waitUntil(timeout: 60) { try h.redis.command(["XLEN", h.streamKey]).integer == Int64(total) })
        #expect(h.waitUntil(timeout: 120) {
            try outage.storedTrades(h) == total && outage.segments(h).isEmpty && h.pendingCount() == 0
        }, "stored \((try? outage.storedTrades(h)) ?? -1), segments \(outage.segments(h))")
        let emptied = Date().timeIntervalSince(back)
        #expect(emptied < 20, "the spill emptied \(emptied) s after Postgres came back")
        #expect(worstLag <= 2 * rate, "the spill kept pace: at most 2 s of the stream undelivered (worst \(worstLag))")
        let failures = h.logLines().filter { $0.contains("ingest lookup failed") }
        #expect(failures.count <= outageSeconds / 10 + 3, "one line per 10 s interval, not one per event: \(failures.count)")
        print("outage \(outageSeconds) s at \(rate) events/s: worst lag \(worstLag), spill empty \(emptied) s after Postgres returned, \(failures.count) lookup-failure lines")
        #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_trade") == total)
        #expect(try h.deadLetters().isEmpty)
    }

    /// Entries of the stream not yet delivered to the group (XINFO GROUPS `lag`).
    func lag(_ h: IngestHarness) throws -> Int {
        let reply = try h.redis.command(["XINFO", "GROUPS", h.streamKey])
        for group in reply.array ?? [] {
            let fields = group.array ?? []
            var i = 0
            while i + 1 < fields.count {
                if fields[i].text == "lag" { return Int(fields[i + 1].integer ?? 0) }
                i += 2
            }
        }
        return 0
    }
}
