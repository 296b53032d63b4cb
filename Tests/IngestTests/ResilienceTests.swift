import Foundation
import KernelEvents
import KernelPostgres
import Testing

/// Crashes, signals and a stalled Postgres, with the kernel as a real child process (or, for the
/// stall, in process) against real Redis and Postgres.
@Suite("Ingest resilience", .serialized)
struct ResilienceTests {
    /// Seeds a producer bound to a trade subject and publishes `count` trade events.
    func seedAndPublish(_ h: IngestHarness, count: Int) throws -> EventUUID {
        let (producer, subject, _, token) = try h.boundProducer()
        var commands: [[String]] = []
        for i in 0..<count {
            let payload = IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(100 + i % 50).25","size":"\#(1 + i)"}"#)
            commands.append(["XADD", h.streamKey, "*", "payload", payload, "token", token])
            if commands.count == 500 {
                _ = try h.redis.pipeline(commands.map { $0.map { Array($0.utf8) } })
                commands.removeAll()
            }
        }
        if !commands.isEmpty { _ = try h.redis.pipeline(commands.map { $0.map { Array($0.utf8) } }) }
        return subject
    }

    @Test func sigtermDrainsCommitsAcknowledgesAndExitsZero() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        _ = try seedAndPublish(h, count: 3000)
        let kernel = try h.startProcess(yaml: h.yaml(batchSize: 200))
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") > 0 })
        kill(kernel.processIdentifier, SIGTERM)
        kernel.waitUntilExit()
        #expect(kernel.terminationReason == .exit && kernel.terminationStatus == 0, "exit status \(kernel.terminationStatus)")
        // Everything read was committed and acknowledged: nothing is left pending.
        #expect(try h.pendingCount() == 0)
        let stored = try h.count("SELECT count(*) FROM md_trade")
        let info = try h.redis.command(["XINFO", "GROUPS", h.streamKey]).array?.first?.array ?? []
        var entriesRead = -1
        var i = 0
        while i + 1 < info.count { if info[i].text == "entries-read" { entriesRead = Int(info[i + 1].integer ?? -1) }; i += 2 }
        #expect(stored == entriesRead, "stored \(stored) == read \(entriesRead)")
        // A second kernel finishes the rest; every event exactly once.
        let again = try h.startProcess(yaml: h.yaml(batchSize: 200))
        defer { again.terminate(); again.waitUntilExit() }
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") == 3000 })
        #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_trade") == 3000)
    }

    @Test func killMinus9MidBatchThenRestartLosesAndDuplicatesNothing() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        _ = try seedAndPublish(h, count: 6000)
        let yaml = h.yaml(batchSize: 500, batchMaxWaitMs: 200)
        let first = try h.startProcess(yaml: yaml)
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") >= 500 })
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let afterCrash = try h.count("SELECT count(*) FROM md_trade")
        #expect(afterCrash < 6000, "the crash happened mid-stream (\(afterCrash) stored)")
        let second = try h.startProcess(yaml: yaml)
        defer { second.terminate(); second.waitUntilExit() }
        #expect(h.waitUntil(timeout: 90) { try h.count("SELECT count(*) FROM md_trade") == 6000 && h.pendingCount() == 0 })
        #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_trade") == 6000, "no event stored twice")
        #expect(try h.count("SELECT count(*) FROM md_trade") == 6000)
        #expect(try h.deadLetters().isEmpty)
    }

    @Test func stalledPostgresStopsTheReaderAndEverythingLandsAfterwards() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let subject = try seedAndPublish(h, count: 0)
        _ = subject
        let producer = try h.pg.query("SELECT producer_id::text FROM producers").scalar!
        let token = try h.token(for: EventUUID(producer)!)
        let daemon = try h.startDaemon(batchSize: 20, batchMaxWaitMs: 50, queueSize: 40, writeConnections: 1)
        defer { daemon.stop() }
        // Make sure the table exists and works, then hold a lock that blocks every insert.
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"1","size":"1"}"#), token: token)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 })
        let locker = try PGConnection(dsn: h.dsn)
        defer { locker.close() }
        try locker.execute("BEGIN; LOCK TABLE md_trade IN ACCESS EXCLUSIVE MODE")
        var commands: [[[UInt8]]] = []
        for i in 0..<2000 {
            let payload = IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(i + 2)","size":"1"}"#)
            commands.append(["XADD", h.streamKey, "*", "payload", payload, "token", token].map { Array($0.utf8) })
        }
        _ = try h.redis.pipeline(commands)
        Thread.sleep(forTimeInterval: 3)
        // With Postgres stalled the kernel holds at most its queues' worth of entries: the reader
        // stopped reading and the backlog stays in Redis.
        let read = daemon.pipeline!.metrics.readTotal.load(ordering: .relaxed)
        // Bound: the reader's blocked chunk (read_count 100) + the entry queue (40) + per processor (performance.processor_threads)
        // a chunk, a batch and a blocked emit (≤ 140 each) + the batch queue (40) + the writer's
        // batch (20) ≈ 480; far below the 2,001 published.
        #expect(read < 600, "read \(read) of 2001 while Postgres was stalled")
        // (Not a count on md_trade: the lock would block that query too.)
        #expect(daemon.pipeline!.metrics.storedEventsTotal.load(ordering: .relaxed) == 1, "nothing committed while stalled")
        try locker.execute("COMMIT")
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") == 2001 })
        #expect(h.waitUntil { try h.pendingCount() == 0 })
    }
}
