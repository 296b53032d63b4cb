import Foundation
import KernelEvents
import KernelJSON
import Testing

/// `kernel dlq list` and `kernel dlq replay` as processes against a running kernel: an entry whose
/// cause is fixed is stored once replayed and leaves the DLQ; one whose cause is not comes back;
/// one refused before its token was checked carries no producer and is left alone.
@Suite("DLQ list and replay", .serialized)
struct DLQReplayTests {
    func kernel(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try SpillCommandTests().runKernel(args)
    }

    /// The DLQ's entries as field maps (the harness' view leaves out `producer_id`).
    func rawLetters(_ h: IngestHarness) throws -> [[String: String]] {
        (try h.redis.command(["XRANGE", h.dlqKey, "-", "+"]).array ?? []).compactMap { item in
            guard let pair = item.array, pair.count == 2, let fields = pair[1].array else { return nil }
            var d: [String: String] = [:]
            var i = 0
            while i + 1 < fields.count { d[fields[i].text ?? ""] = fields[i + 1].text ?? ""; i += 2 }
            return d
        }
    }

    @Test func replayStoresFixedEntriesAndLeavesTheRest() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let (producer, subject, schema, token) = try h.boundProducer()
        let noSchema = EventUUID(try h.pg.query("INSERT INTO subjects (subject_key) VALUES ('later') RETURNING subject_id::text").scalar!)!
        try h.bind(producer, noSchema)
        let config = try h.configFile(h.yaml())
        let daemon = try h.startDaemon()
        defer { daemon.stop() }

        let good = #"{"venue":"XNAS","symbol":"AAPL","price":"1.5","size":"1"}"#
        let fixable = IngestHarness.envelope(subject: noSchema, payload: good)
        try h.publish(payload: fixable, token: token, id: "fix-me")
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: good), token: nil, id: "anon")
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"1.5","size":"-3"}"#),
                      token: token, id: "bad-trade")
        #expect(h.waitUntil { try h.deadLetters().count == 3 })

        // The producer is recorded once its token was checked, never for an unauthenticated entry.
        let byID = Dictionary(uniqueKeysWithValues: try rawLetters(h).map { ($0["id"] ?? "", $0) })
        #expect(byID["fix-me"]?["producer_id"] == producer.description)
        #expect(byID["bad-trade"]?["producer_id"] == producer.description)
        #expect(byID["anon"]?["producer_id"] == nil)
        for letter in byID.values { #expect(letter["token"] == nil, "no token in the DLQ") }

        // list: JSON lines, filtered by reason.
        let listed = try kernel(["dlq", "list", "--config", config, "--reason", "missing_subject_schema", "--payload"])
        #expect(listed.status == 0, "\(listed.err)")
        let lines = listed.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 1)
        let line = try JSONParser.parse(Array(lines.first?.utf8 ?? "".utf8)).objectValue
        #expect(line?["id"]?.stringValue == "fix-me")
        #expect(line?["reason"]?.stringValue == "missing_subject_schema")
        #expect(line?["producer_id"]?.stringValue == producer.description)
        #expect(line?["payload"]?.stringValue == fixable)

        // A dry run changes nothing.
        let dry = try kernel(["dlq", "replay", "--config", config, "--dry-run"])
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.contains(#""would_replay":2"#), "\(dry.out)")
        #expect(try h.deadLetters().count == 3)

        // Fix the cause (the subject gets its schema; past the kernel's 1 s negative cache), replay
        // that reason only: the event is stored and its DLQ entry is gone.
        _ = try h.pg.query("UPDATE subjects SET current_schema_id = $1::uuid WHERE subject_id = $2::uuid",
                           [schema.description, noSchema.description])
        Thread.sleep(forTimeInterval: 1.5)
        let replay = try kernel(["dlq", "replay", "--config", config, "--reason", "missing_subject_schema"])
        #expect(replay.status == 0, "\(replay.err)")
        #expect(replay.out.contains(#""replayed":1"#), "\(replay.out)")
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade WHERE subject_id = '\(noSchema)'") == 1 })
        #expect(Set(try h.deadLetters().map(\.id)) == ["anon", "bad-trade"])

        // Everything else: the unfixed plugin refusal comes back to the DLQ, the anonymous entry
        // is skipped and stays.
        let rest = try kernel(["dlq", "replay", "--config", config])
        #expect(rest.status == 0, "\(rest.err)")
        #expect(rest.out.contains(#""replayed":1"#) && rest.out.contains("no_producer (unauthenticated)"), "\(rest.out)")
        #expect(h.waitUntil { try h.deadLetters().filter { $0.id == "bad-trade" && $0.reason == "normalize_failed" }.count == 1 })
        #expect(h.waitUntil { try h.pendingCount() == 0 })
        #expect(Set(try h.deadLetters().map(\.id)) == ["anon", "bad-trade"])
        #expect(try h.count("SELECT count(*) FROM md_trade") == 1, "the refused trade is still refused, the fixed one stored once")

        // --as-producer vouches for entries without one.
        let vouched = try kernel(["dlq", "replay", "--config", config, "--reason", "unauthenticated", "--as-producer", producer.description])
        #expect(vouched.status == 0, "\(vouched.err)")
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 2 })
        #expect(try h.deadLetters().map(\.id) == ["bad-trade"])
    }

    @Test func badArgumentsAreRefused() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let config = try h.configFile(h.yaml())
        let bad = try kernel(["dlq", "replay", "--config", config, "--as-producer", "not-a-uuid"])
        #expect(bad.status != 0)
        #expect(bad.err.contains("--as-producer"))
        let zero = try kernel(["dlq", "replay", "--config", config, "--count", "0"])
        #expect(zero.status != 0)
        let empty = try kernel(["dlq", "list", "--config", config])
        #expect(empty.status == 0, "\(empty.err)")
        #expect(empty.out.isEmpty)
    }
}
