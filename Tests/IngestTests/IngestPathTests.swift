import Foundation
import KernelCore
import KernelEvents
import Testing

/// The data plane end to end against real Redis and Postgres: one in-process kernel per test.
@Suite("Ingest path", .serialized)
struct IngestPathTests {
    @Test func tradeEventLandsInTypedTableWithExactValues() throws {
        try IngestHarness.withRunningKernel { h, bound, _ in
            let (producer, subject, schema, token) = bound
            let eventID = UUID()
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: """
                {"venue":"XNAS","symbol":"AAPL","price":"187.2500","size":100,"side":"buy","trade_id":"T-1","exchange_ts":"2026-11-25T14:30:00.123456789Z"}
                """, eventID: eventID), token: token)
            #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 })
            let r = try h.pg.query("""
                SELECT event_id::text, row_no, subject_id::text, producer_id::text, schema_id::text, venue, symbol, price::text,
                       size::text, side, trade_id, ts_event = '2026-11-25T14:30:00.123456Z'::timestamptz FROM md_trade
                """)
            #expect(r.rows[0] == [eventID.uuidString.lowercased(), "0", subject.description, producer.description, schema.description,
                                  "XNAS", "AAPL", "187.2500", "100", "buy", "T-1", "t"])
            #expect(try h.count("SELECT count(*) FROM events") == 0, "one write per event: typed events are not duplicated as JSON")
            #expect(try h.count("SELECT count(*) FROM event_tag_links et JOIN tags t USING (tag_id) WHERE t.key = 'core.symbol' AND t.value = 'AAPL'") == 1)
            #expect(try h.count("SELECT count(*) FROM event_tag_links et JOIN tags t USING (tag_id) WHERE t.key = 'core.source'") == 1)
            #expect(h.waitUntil { try h.pendingCount() == 0 }, "acknowledged after commit")
            #expect(try h.deadLetters().isEmpty)
        }
    }

    @Test func quoteBookAndBarLandWithTheirRows() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let producer = try h.producer()
        let token = try h.token(for: producer)
        var subjects: [String: EventUUID] = [:]
        for family in ["quote", "book", "bar"] {
            subjects[family] = try h.subject(family: family).subject
            try h.bind(producer, subjects[family]!)
        }
        let daemon = try h.startDaemon()
        defer { daemon.stop() }
        try h.publish(payload: IngestHarness.envelope(subject: subjects["quote"]!, payload: """
            {"venue":"XNAS","symbol":"MSFT","bid_price":"410.10","bid_size":"300","ask_price":410.12,"ask_size":200}
            """), token: token)
        try h.publish(payload: IngestHarness.envelope(subject: subjects["book"]!, payload: """
            {"venue":"XNAS","symbol":"MSFT","type":"snapshot","sequence":42,"bids":[["410.10","300"],["410.09","500"]],"asks":[["410.12","200"]]}
            """), token: token)
        try h.publish(payload: IngestHarness.envelope(subject: subjects["bar"]!, payload: """
            {"venue":"XNAS","symbol":"MSFT","interval":"1m","start":"2026-11-25T14:30:00Z","open":"410.00","high":"410.50","low":"409.90","close":"410.12","volume":"12500","trades":321,"vwap":"410.21"}
            """), token: token)
        #expect(h.waitUntil { try h.count("SELECT (SELECT count(*) FROM md_quote) + (SELECT count(*) FROM md_book) + (SELECT count(*) FROM md_bar)") == 5 })
        #expect(try h.pg.query("SELECT bid_price::text, bid_size::text, ask_price::text, ask_size::text FROM md_quote").rows[0]
                == ["410.10", "300", "410.12", "200"])
        #expect(try h.pg.query("SELECT row_no, kind, side, level, price::text, size::text, sequence FROM md_book ORDER BY row_no").rows == [
            ["0", "snapshot", "bid", "0", "410.10", "300", "42"],
            ["1", "snapshot", "bid", "1", "410.09", "500", "42"],
            ["2", "snapshot", "ask", "0", "410.12", "200", "42"],
        ])
        #expect(try h.pg.query("SELECT interval, bar_start = '2026-11-25T14:30:00Z'::timestamptz, open::text, high::text, low::text, close::text, volume::text, trades, vwap::text FROM md_bar").rows[0]
                == ["1m", "t", "410.00", "410.50", "409.90", "410.12", "12500", "321", "410.21"])
        #expect(try h.deadLetters().isEmpty, "\(String(describing: try? h.deadLetters()))")
    }

    @Test func familyWithoutPluginIsStoredAsGenericJSON() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let producer = try h.producer()
        let (subject, _) = try h.subject(family: "news_headline")
        try h.bind(producer, subject)
        let token = try h.token(for: producer, subject: subject)
        let daemon = try h.startDaemon()
        defer { daemon.stop() }
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"headline":"Fed holds rates","score":0.73,"n":12345678901234567890}"#), token: token)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM events") == 1 })
        #expect(try h.pg.query("SELECT payload->>'headline', payload->>'n' FROM events").rows[0] == ["Fed holds rates", "12345678901234567890"])
    }

    @Test func duplicateEventIDIsStoredOnce() throws {
        try IngestHarness.withRunningKernel { h, bound, daemon in
            let (producer, subject, _, token) = bound
            let envelope = IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"1.5","size":"1"}"#)
            try h.publish(payload: envelope, token: token)
            #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 })
            try h.publish(payload: envelope, token: token)
            try h.publish(payload: envelope, token: token)
            #expect(h.waitUntil { try h.pendingCount() == 0 && daemon.pipeline!.metrics.readTotal.load(ordering: .relaxed) == 3 })
            #expect(try h.count("SELECT count(*) FROM md_trade") == 1)
            #expect(try h.deadLetters().isEmpty, "a redelivered or re-published event is not an error")
        }
    }

    /// A backlog: batches queue up while the writers are busy, and a free writer takes several in
    /// one transaction, never more than `postgres.max_write_events` events (a batch is not split).
    @Test func backlogTransactionsStayWithinMaxWriteEvents() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let (_, subject, _, token) = try h.boundProducer()
        let total = 3000
        for i in 0..<total {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"S\#(i % 7)","price":"\#(100 + i)","size":"1"}"#), token: token)
        }
        h.postgresLines = ["max_write_events: 120"]
        let daemon = try h.startDaemon(batchSize: 50, batchMaxWaitMs: 200)
        defer { daemon.stop() }
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") == total })
        // Rows of one transaction share their xmin; a transaction is one writer round.
        let largest = try h.count("SELECT max(n) FROM (SELECT count(*) AS n FROM md_trade GROUP BY xmin::text) t")
        #expect(largest > 0 && largest <= 120, "largest transaction: \(largest) events")
        #expect(try h.count("SELECT count(DISTINCT price) FROM md_trade") == total)
        #expect(h.waitUntil { try h.pendingCount() == 0 })
    }

    @Test func manyEventsAcrossSmallBatchesAllLand() throws {
        try IngestHarness.withRunningKernel(batchSize: 5, batchMaxWaitMs: 200) { h, bound, _ in
            let (producer, subject, _, token) = bound
            for i in 0..<13 {
                try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(100 + i)","size":"1"}"#), token: token)
            }
            #expect(h.waitUntil(timeout: 5) { try h.count("SELECT count(*) FROM md_trade") == 13 })
            #expect(h.waitUntil { try h.pendingCount() == 0 })
        }
    }
}
