import Foundation
import Testing

/// Retention on a real database: partitions of old months are dropped (logged and counted),
/// months inside the retention and ahead of now are kept or created, by the running kernel on
/// its schedule and by `kernel partitions maintain`; `kernel partitions list` shows sizes.
@Suite("Partition maintenance and retention", .serialized)
struct PartitionMaintenanceTests {
    func runKernel(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try IngestHarness.runKernel(args)
    }

    func partitionNames(_ h: IngestHarness, of table: String) throws -> Set<String> {
        Set(try h.pg.query("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass
            """, [table]).rows.compactMap { $0[0] ?? nil })
    }

    /// `YYYY_MM` of the database's current month shifted by `offset` months.
    func month(_ h: IngestHarness, _ offset: Int) throws -> String {
        try h.pg.query("SELECT to_char((date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => $1::int))::date, 'YYYY_MM')",
                       [String(offset)]).scalar!
    }

    /// Old months with a row in the oldest, as a kernel that ran for years would have.
    func seedOldPartitions(_ h: IngestHarness) throws {
        try h.pg.execute("SELECT ensure_month_partitions('events'::regclass, '2020-01-01', 2)")
        try h.pg.execute("""
            SELECT ensure_month_partitions('events'::regclass,
                   ((date_trunc('month', now() AT TIME ZONE 'UTC') - interval '12 months')::date), 1)
            """)
        try h.pg.execute("""
            WITH e AS (
                INSERT INTO events (event_id, ts, subject_id, producer_id, schema_id, payload)
                VALUES (gen_random_uuid(), '2020-01-15T00:00:00Z', gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), '{"old":true}')
                RETURNING event_id)
            INSERT INTO event_ids (event_id, digest) SELECT event_id, '\\x01'::bytea FROM e
            """)
    }

    /// Identities of events stored now (inside any retention), which a pass must keep.
    func seedYoungEvent(_ h: IngestHarness) throws -> String {
        try h.pg.query("""
            WITH e AS (
                INSERT INTO events (event_id, ts, subject_id, producer_id, schema_id, payload)
                VALUES (gen_random_uuid(), now(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), '{"young":true}')
                RETURNING event_id)
            INSERT INTO event_ids (event_id, digest) SELECT event_id, '\\x02'::bytea FROM e RETURNING event_id::text
            """).scalar!
    }

    @Test func theCommandsListSizesAndDropOnlyWhatIsPastRetention() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        try seedOldPartitions(h)
        let young = try seedYoungEvent(h)
        let oldID = try #require(try h.pg.query("SELECT event_id::text FROM events WHERE payload->>'old' = 'true'").scalar)
        h.extraYAML["retention"] = "{months: 12, months_ahead: 4}"
        let config = try h.configFile(h.yaml())

        let list = try runKernel(["partitions", "list", "--config", config])
        #expect(list.status == 0, "\(list.err)")
        let line2020 = try #require(list.out.split(separator: "\n").first { $0.hasPrefix("events_2020_01 ") }, "\(list.out)")
        #expect(line2020.contains("2020-01") && line2020.contains("KiB") && line2020.contains("past retention (12 months)"))
        let boundary = try month(h, -12)
        #expect(list.out.split(separator: "\n").contains { $0.hasPrefix("events_\(boundary) ") && $0.contains("kept (12 months)") })

        let maintain = try runKernel(["partitions", "maintain", "--config", config])
        #expect(maintain.status == 0, "\(maintain.err)")
        #expect(maintain.out.contains("dropped  events_2020_01"))
        let events = try partitionNames(h, of: "events")
        #expect(!events.contains("events_2020_01") && !events.contains("events_2020_02"))
        #expect(events.contains("events_\(boundary)"), "the oldest month inside the retention stays")
        for ahead in 0..<4 { #expect(events.contains("events_\(try month(h, ahead))"), "created ahead: \(ahead)") }
        #expect(try h.count("SELECT count(*) FROM events WHERE payload->>'old' = 'true'") == 0)
        // Identities go with their events (docs/operations.md, "Retention"): event_ids does not
        // grow without bound, and the events kept keep theirs.
        #expect(try h.count("SELECT count(*) FROM event_ids WHERE event_id = '\(oldID)'") == 0, "the dropped event's identity")
        #expect(try h.count("SELECT count(*) FROM event_ids WHERE event_id = '\(young)'") == 1, "a kept event's identity")

        // Retention 0 (the default) keeps everything.
        try seedOldPartitions(h)
        h.extraYAML["retention"] = "{months: 0}"
        let keepAll = try runKernel(["partitions", "maintain", "--config", try h.configFile(h.yaml())])
        #expect(keepAll.status == 0)
        #expect(keepAll.out.contains("0 dropped past retention"))
        #expect(try partitionNames(h, of: "events").contains("events_2020_01"))
    }

    func scrapeMetrics(_ h: IngestHarness, port: String) throws -> String {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sf", "-o", h.dir + "/metrics.txt", "http://127.0.0.1:\(port)/metrics"]
        try curl.run()
        curl.waitUntilExit()
        return (try? String(contentsOfFile: h.dir + "/metrics.txt", encoding: .utf8)) ?? ""
    }

    @Test func theRunningKernelDropsOnItsScheduleLogsAndCountsIt() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        try seedOldPartitions(h)
        h.extraYAML["retention"] = "{months: 12, months_ahead: 3, check_interval_seconds: 1}"
        let p = try h.startProcess(yaml: h.yaml())
        defer { if p.isRunning { p.terminate(); p.waitUntilExit() } }
        #expect(h.waitUntil(timeout: 60) {
            let names = try partitionNames(h, of: "events")
            return !names.contains("events_2020_01") && !names.contains("events_2020_02")
        })
        #expect(h.waitUntil(timeout: 30) {
            h.logLines().contains { $0.contains("partition dropped past retention") && $0.contains("events_2020_01") }
        })
        #expect(try partitionNames(h, of: "events").contains("events_\(try month(h, 2))"), "created ahead")
        // The log is written by its own thread: the line may land after the partition work.
        #expect(h.waitUntil(timeout: 30) { h.logLines().contains { $0.contains("\"msg\":\"admin api listening\"") } })
        let listening = try #require(h.logLines().first { $0.contains("\"msg\":\"admin api listening\"") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listening.utf8)) as? [String: Any])
        let port = try #require((object["fields"] as? [String: Any])?["port"] as? String)
        // The counter moves after each DROP commits, one partition at a time: a scrape between the
        // two drops of one pass reads 1 (the fresh-clone CI run did), so poll until both count.
        var dropped: Substring?
        let counted = h.waitUntil(timeout: 30) {
            dropped = try scrapeMetrics(h, port: port).split(separator: "\n").first { $0.hasPrefix("kernel_partitions_dropped_total ") }
            return dropped.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 >= 2 } == true
        }
        #expect(counted, "\(dropped ?? "absent")")
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
