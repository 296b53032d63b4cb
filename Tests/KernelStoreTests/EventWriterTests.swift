import Foundation
import KernelEvents
import KernelPlugins
import KernelPostgres
import KernelStore
import Testing

@Suite("EventWriter (live Postgres)", .serialized)
struct EventWriterTests {
    @Test("trade rows keep exact values: numeric text, enum, NULLs, µs timestamps")
    func tradeValues() throws {
        try Fixtures.withStore { writer, connection, _ in
            let ts = Fixtures.nowMicros
            let first = Fixtures.tradeEvent(ts: ts, tsEvent: ts - 999, price: "187.2500", size: "0.000100",
                                            side: "sell", tradeID: "T-1")
            let second = Fixtures.tradeEvent(ts: ts + 1, price: "-0.00", size: "12345678901234567890.123",
                                             side: "unknown", tradeID: nil)
            let report = try writer.write([first, second])
            #expect(report.inserted == 2 && report.duplicates == 0 && report.rejected.isEmpty)
            #expect(!report.usedDedupPath)

            let rows = try connection.query("""
                SELECT event_id::text, row_no, (extract(epoch FROM ts) * 1000000)::bigint,
                       (extract(epoch FROM ts_event) * 1000000)::bigint, subject_id::text, producer_id::text,
                       schema_id::text, venue, symbol, price::text, size::text, side, trade_id,
                       received_at IS NOT NULL AND received_at > now() - interval '1 minute'
                  FROM md_trade ORDER BY ts
                """)
            #expect(rows.count == 2)
            #expect(rows[0, 0] == first.eventID.description)
            #expect(rows[0, 1] == "0")
            #expect(rows[0, 2] == String(ts))
            #expect(rows[0, 3] == String(ts - 999))
            #expect(rows[0, 4] == Fixtures.subject.description)
            #expect(rows[0, 5] == Fixtures.producer.description)
            #expect(rows[0, 6] == Fixtures.schema.description)
            #expect(rows[0, 7] == "XNAS" && rows[0, 8] == "AAPL")
            #expect(rows[0, 9] == "187.2500")
            #expect(rows[0, 10] == "0.000100")
            #expect(rows[0, 11] == "sell")
            #expect(rows[0, 12] == "T-1")
            #expect(rows[0, 13] == "t")
            #expect(rows[1, 3] == nil, "ts_event NULL")
            #expect(rows[1, 9] == "0.00")
            #expect(rows[1, 10] == "12345678901234567890.123")
            #expect(rows[1, 11] == "unknown")
            #expect(rows[1, 12] == nil, "trade_id NULL")
        }
    }

    @Test("a book event with 20 levels stores 20 rows numbered 0…19")
    func bookRows() throws {
        try Fixtures.withStore { writer, connection, _ in
            let event = Fixtures.bookEvent(levels: 20)
            let report = try writer.write([event])
            #expect(report.inserted == 1 && report.total == 1)
            let rows = try connection.query("""
                SELECT row_no, side, level, price::text, size::text, sequence, kind FROM md_book
                 WHERE event_id = $1 ORDER BY row_no
                """, [event.eventID.description])
            #expect(rows.count == 20)
            for index in 0..<20 {
                #expect(rows[index, 0] == String(index))
                #expect(rows[index, 1] == (index % 2 == 0 ? "bid" : "ask"))
                #expect(rows[index, 2] == String(index + 1))
                #expect(rows[index, 3] == "187.\(index)")
                #expect(rows[index, 4] == String(index * 10))
                #expect(rows[index, 5] == (index == 0 ? nil : String(Int64(index) * 1_000_000_000_000)))
                #expect(rows[index, 6] == "snapshot")
            }
        }
    }

    @Test("a generic event keeps its payload as jsonb")
    func genericPayload() throws {
        try Fixtures.withStore { writer, connection, _ in
            let payload = #"{"a": 1, "b": [true, null, "x\u00e9"], "c": {"d": 1.50}, "e": "日本"}"#
            let event = Fixtures.genericEvent(payload: payload)
            let report = try writer.write([event])
            #expect(report.inserted == 1)
            let row = try connection.query(
                "SELECT payload = $2::jsonb, ts_event IS NULL, (extract(epoch FROM ts) * 1000000)::bigint FROM events WHERE event_id = $1",
                [event.eventID.description, payload])
            #expect(row.count == 1)
            #expect(row[0, 0] == "t")
            #expect(row[0, 1] == "t")
            #expect(row[0, 2] == String(event.tsMicros))
            #expect(try connection.count("md_trade") == 0)
        }
    }

    @Test("tags are deduplicated case-insensitively in the dictionary and linked once per event")
    func tagDictionary() throws {
        try Fixtures.withStore { writer, connection, dsn in
            let odd = Tag(key: "note", value: #"quote " and back\slash, {braces}, comma é"#)
            let a = Fixtures.tradeEvent(tags: [
                Tag(key: "core.symbol", value: "AAPL"), Tag(key: "CORE.SYMBOL", value: "aapl"),
                Tag(key: "core.venue", value: "XNAS"), odd,
            ])
            let b = Fixtures.genericEvent(tags: [Tag(key: "Core.Symbol", value: "Aapl")])
            let report = try writer.write([a, b])
            #expect(report.inserted == 2 && report.rejected.isEmpty)
            #expect(try connection.count("tags") == 3)
            #expect(try connection.count("event_tag_links") == 4)
            #expect(try connection.count("event_tag_links", where: "event_id = '\(a.eventID)'") == 3)
            let oddStored = try connection.query("SELECT value::text FROM tags WHERE key = 'NOTE'")
            #expect(oddStored.scalar == odd.value)

            // A second writer starts with an empty cache and must find the same entries.
            let other = try PGConnection(dsn: dsn, logger: Fixtures.logger)
            defer { other.close() }
            let second = EventWriter(connection: other, logger: Fixtures.logger)
            let c = Fixtures.bookEvent(tags: [Tag(key: "core.SYMBOL", value: "aaPL"), odd])
            #expect(try second.write([c]).inserted == 1)
            #expect(try connection.count("tags") == 3)
            let linked = try connection.query("""
                SELECT count(DISTINCT tag_id) FROM event_tag_links
                 WHERE tag_id = (SELECT tag_id FROM tags WHERE key = 'core.symbol' AND value = 'AAPL')
                """)
            #expect(linked.scalar == "1")
            #expect(try connection.count("event_tag_links", where: "tag_id = (SELECT tag_id FROM tags WHERE key = 'core.symbol')") == 3)
            // The tags are on the rows: the query of docs/operations.md, "Tags".
            let aapl = "ARRAY[(SELECT tag_id FROM tags WHERE key = 'core.symbol' AND value = 'AAPL')]"
            var tagged = 0
            for table in ["md_trade", "md_book", "events"] {
                tagged += try connection.count(table, where: "ts >= '2000-01-01' AND row_no_or_zero = 0 AND tag_ids @> \(aapl)"
                    .replacingOccurrences(of: " AND row_no_or_zero = 0", with: table == "md_book" ? " AND row_no = 0" : ""))
            }
            #expect(tagged == 3, "one trade, one book, one generic event tagged core.symbol=AAPL")
            #expect(try connection.query("SELECT count(*) FROM md_trade WHERE tag_ids IS NOT NULL AND cardinality(tag_ids) <> "
                                         + "(SELECT count(DISTINCT x) FROM unnest(tag_ids) x)").scalar == "0", "each id once")
        }
    }

    @Test("with a warm cache, tags repeated or changed position by position link to the right entries")
    func tagsByPosition() throws {
        func t(_ key: String, value: String) -> KernelPlugins.Tag { KernelPlugins.Tag(key: key, value: value) }
        try Fixtures.withStore { writer, connection, _ in
            let warm = Fixtures.tradeEvent(tags: [
                t( "core.venue", value: "XNAS"), t( "core.symbol", value: "AAPL"),
                t( "core.symbol", value: "MSFT"), t( "core.venue", value: "XNYS"),
            ])
            #expect(try writer.write([warm]).inserted == 1)
            // Every tag is cached now. Events repeat, change, fold and reorder tags at each position.
            let lists: [[KernelPlugins.Tag]] = [
                [t( "core.venue", value: "XNAS"), t( "core.symbol", value: "AAPL")],
                [t( "core.venue", value: "XNAS"), t( "core.symbol", value: "MSFT")],
                [t( "core.venue", value: "xnas"), t( "core.symbol", value: "MSFT")],
                [t( "core.symbol", value: "AAPL"), t( "core.venue", value: "XNYS")],
                [t( "core.venue", value: "XNYS")],
                [t( "core.venue", value: "XNYS"), t( "core.symbol", value: "aapl"), t( "new", value: "one")],
                [t( "core.venue", value: "XNAS"), t( "core.symbol", value: "AAPL"), t( "new", value: "one")],
            ]
            let events = lists.enumerated().map { Fixtures.tradeEvent(tags: $0.element) }
            #expect(try writer.write(events).inserted == events.count)
            for (event, tags) in zip(events, lists) {
                let stored = try connection.query("""
                    SELECT string_agg(pair, ',' ORDER BY pair COLLATE "C") FROM (
                        SELECT lower(t.key::text) || '=' || upper(t.value::text) AS pair
                          FROM event_tag_links l JOIN tags t USING (tag_id) WHERE l.event_id = '\(event.eventID)') links
                    """)
                let expected = tags.map { $0.key.lowercased() + "=" + $0.value.uppercased() }.sorted().joined(separator: ",")
                #expect(stored.scalar == expected, "event \(event.eventID)")
            }
            #expect(try connection.count("tags") == 5)
        }
    }

    @Test("writing the same batch twice stores it once", arguments: [false, true])
    func redelivery(flagged: Bool) throws {
        try Fixtures.withStore { writer, connection, _ in
            let symbol = [Tag(key: "core.symbol", value: "AAPL")]
            var batch: [StoredEvent] = (0..<50).map { Fixtures.tradeEvent(tradeID: "\($0)", tags: symbol) }
            batch += (0..<5).map { _ in Fixtures.bookEvent(levels: 10, tags: symbol) }
            batch += (0..<5).map { _ in Fixtures.genericEvent(tags: symbol) }
            let first = try writer.write(batch)
            #expect(first.inserted == 60 && first.duplicates == 0)
            let counts = try ["md_trade", "md_book", "events", "event_tag_links"].map { try connection.count($0) }
            #expect(counts == [50, 50, 5, 60])

            let again = batch.map { event in
                var copy = event
                copy.mayBeRedelivery = flagged
                return copy
            }
            let second = try writer.write(again)
            #expect(second.inserted == 0)
            #expect(second.duplicates == 60)
            #expect(second.rejected.isEmpty)
            #expect(second.usedDedupPath)
            #expect(try ["md_trade", "md_book", "events", "event_tag_links"].map { try connection.count($0) } == counts)

            // Half old, half new: only the new ones count as inserted.
            let mixed = Array(again.prefix(30)) + (0..<10).map { _ in Fixtures.tradeEvent(redelivery: flagged) }
            let third = try writer.write(mixed)
            #expect(third.inserted == 10 && third.duplicates == 30 && third.total == 40)
            #expect(try connection.count("md_trade") == 60)
        }
    }

    /// A writer merging queued batches across an additive plugin upgrade (v1 declares the
    /// family's columns, v2 adds a nullable one) holds events of both layouts in one transaction;
    /// so does a batch of a family whose versions two plugins serve. Each layout must be copied
    /// with its own column list. The writer wrote v1 before the table changed, so its cached
    /// layout and staging table are the old ones, as in a running kernel.
    @Test("events of two column layouts of one family in one batch are each stored with their own columns",
          arguments: [false, true])
    func twoLayoutsOfOneFamily(flagged: Bool) throws {
        try Fixtures.withStore { writer, connection, _ in
            #expect(try writer.write([Fixtures.tradeEvent(redelivery: flagged)]).inserted == 1)
            var upgraded = Fixtures.trade
            upgraded.columns.append(Fixtures.column("note", .text, nullable: true))
            _ = try FamilyTables.ensure(Fixtures.spec(upgraded), on: connection)
            func v2(_ note: String) -> StoredEvent {
                var event = Fixtures.tradeEvent(redelivery: flagged)
                event.family = upgraded
                event.rows[0].append(.text("v2 " + note))
                return event
            }
            // v1 batches then v2 batches (a merge across the switch), then the two interleaved.
            var batch = (0..<10).map { _ in Fixtures.tradeEvent(redelivery: flagged) } + (0..<10).map { v2("b\($0)") }
            for i in 0..<10 { batch += [v2("c\(i)"), Fixtures.tradeEvent(redelivery: flagged)] }
            let report = try writer.write(batch)
            #expect(report.rejected.isEmpty, "\(report.rejected.prefix(2))")
            #expect(report.inserted == 40 && report.total == 40)
            #expect(try connection.count("md_trade") == 41)
            #expect(try connection.count("md_trade", where: "note LIKE 'v2 %'") == 20)
            #expect(try connection.count("md_trade", where: "note IS NULL") == 21)

            // A bad row of either layout is isolated alone; the rest of both layouts commit.
            var mixed = (0..<6).map { _ in Fixtures.tradeEvent(redelivery: flagged) } + (0..<6).map { v2("f\($0)") }
            mixed[2] = Fixtures.tradeEvent(side: "sideways", redelivery: flagged)
            mixed[9].rows[0][4] = .text("sideways")
            let isolated = try writer.write(mixed)
            #expect(Set(isolated.rejected.map(\.index)) == [2, 9])
            #expect(isolated.inserted == 10)
            #expect(try connection.count("md_trade", where: "note LIKE 'v2 f%'") == 5)
        }
    }

    @Test("the same event twice in one batch is stored once")
    func inBatchDuplicate() throws {
        try Fixtures.withStore { writer, connection, _ in
            let tag = [Tag(key: "core.symbol", value: "AAPL")]
            let a = Fixtures.tradeEvent(tags: tag)
            let b = Fixtures.tradeEvent(tags: tag)
            let aCopy = a
            let report = try writer.write([a, b, aCopy])
            #expect(report.inserted == 2 && report.duplicates == 1 && report.rejected.isEmpty)
            #expect(try connection.count("md_trade") == 2)
            #expect(try connection.count("event_tag_links") == 2)
        }
    }

    @Test("two writers storing the same events at the same time store each once", arguments: [false, true])
    func concurrentWriters(flagged: Bool) throws {
        try Fixtures.withStore { _, connection, dsn in
            let tags = [Tag(key: "core.symbol", value: "AAPL"), Tag(key: "core.venue", value: "XNAS")]
            let events = (0..<400).map { _ in Fixtures.tradeEvent(tags: tags, redelivery: flagged) }
            // The second writer sees the events in reverse order, the shape that can deadlock.
            let batches = [events, events.reversed()]
            let reports = ReportBox()
            let group = DispatchGroup()
            for batch in batches {
                let connection = try PGConnection(dsn: dsn, logger: Fixtures.logger)
                let writer = EventWriter(connection: connection, logger: Fixtures.logger)
                group.enter()
                Thread.detachNewThread {
                    defer { connection.close(); group.leave() }
                    for slice in stride(from: 0, to: batch.count, by: 100).map({ Array(batch[$0..<$0 + 100]) }) {
                        reports.add(Result { () throws(StoreError) in try writer.write(slice) })
                    }
                }
            }
            group.wait()
            let results = reports.all
            #expect(results.count == 8)
            let written = try results.map { try $0.get() }
            #expect(written.reduce(0) { $0 + $1.inserted } == 400)
            #expect(written.reduce(0) { $0 + $1.duplicates } == 400)
            #expect(written.allSatisfy { $0.rejected.isEmpty })
            #expect(try connection.count("md_trade") == 400)
            #expect(try connection.count("event_tag_links") == 800)
            #expect(try connection.count("tags") == 2)
        }
    }

    @Test("a CHECK violation rejects only its event; the rest commit", arguments: [false, true])
    func badRowIsolated(flagged: Bool) throws {
        try Fixtures.withStore { writer, connection, _ in
            var batch = (0..<37).map { Fixtures.tradeEvent(tags: [Tag(key: "n", value: "\($0 % 3)")], redelivery: flagged) }
            batch[23] = Fixtures.tradeEvent(side: "sideways", redelivery: flagged)
            let report = try writer.write(batch)
            #expect(report.inserted == 36)
            #expect(report.rejected.count == 1)
            #expect(report.rejected.first?.index == 23)
            #expect(report.rejected.first?.reason.contains("side_allowed") == true)
            #expect(report.rejected.first?.reason.contains("23514") == true)
            #expect(report.total == 37)
            #expect(try connection.count("md_trade") == 36)
            #expect(try connection.count("md_trade", where: "side = 'sideways'") == 0)
            #expect(try connection.count("event_tag_links") == 36)
        }
    }

    @Test("several bad events of several kinds are all isolated")
    func severalBadEvents() throws {
        try Fixtures.withStore { writer, connection, _ in
            var batch = (0..<20).map { _ in Fixtures.tradeEvent() }
            batch[0] = Fixtures.tradeEvent(symbol: "AA\u{0}PL")            // Postgres: invalid byte 0x00
            batch[7] = Fixtures.bookEvent(levels: 3, level: { $0 == 2 ? 3_000_000_000 : 1 })  // client side
            batch[8] = Fixtures.tradeEvent(price: "12,5")               // client side: not a number
            batch[9] = Fixtures.tradeEvent(tags: [Tag(key: "k", value: "")])  // tags CHECK
            batch[19] = Fixtures.genericEvent(payload: #"{"a": "\u0000"}"#)  // jsonb refuses \u0000
            let report = try writer.write(batch)
            let rejected = Dictionary(uniqueKeysWithValues: report.rejected.map { ($0.index, $0.reason) })
            #expect(Set(rejected.keys) == [0, 7, 8, 9, 19])
            #expect(rejected[7]?.contains("out of range for type integer") == true)
            #expect(rejected[8]?.contains("numeric") == true)
            #expect(rejected[9]?.contains("tags_value_check") == true)
            #expect(report.inserted == 15 && report.total == 20)
            #expect(try connection.count("md_trade") == 15)
            #expect(try connection.count("md_book") == 0)
            #expect(try connection.count("events") == 0)
        }
    }

    @Test("a payload past Postgres' nesting limit (SQLSTATE 54001) is rejected, not retried forever")
    func programLimitIsolated() throws {
        try Fixtures.withStore { writer, connection, _ in
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            let batch = [Fixtures.genericEvent(), Fixtures.genericEvent(payload: deep),
                         Fixtures.genericEvent()]
            let report = try writer.write(batch)
            #expect(report.inserted == 2)
            #expect(report.rejected.map(\.index) == [1])
            #expect(report.rejected.first?.reason.contains("54001") == true)
            #expect(try connection.count("events") == 2)
        }
    }

    @Test("a batch spanning two months creates both months' partitions")
    func twoMonths() throws {
        try Fixtures.withStore { writer, connection, _ in
            let january: Int64 = 1_579_000_000_000_000  // 2020-01-14
            let february: Int64 = 1_581_000_000_000_000  // 2020-02-06
            let tag = [Tag(key: "core.symbol", value: "AAPL")]
            let batch = [
                Fixtures.tradeEvent(ts: january, tags: tag),
                Fixtures.tradeEvent(ts: february, tags: tag),
                Fixtures.genericEvent(ts: february),
            ]
            let report = try writer.write(batch)
            #expect(report.inserted == 3)
            let partitions = try connection.query("""
                SELECT relname FROM pg_class WHERE relname ~ '_2020_0[12]$' ORDER BY relname
                """).rows.compactMap { $0[0] }
            #expect(partitions == ["events_2020_02", "md_trade_2020_01", "md_trade_2020_02"])
            #expect(try connection.count("md_trade_2020_01") == 1)
            #expect(try connection.count("md_trade_2020_02") == 1)
            // A month boundary to the microsecond: 2020-02-01T00:00:00Z lands in February.
            let boundary: Int64 = 1_580_515_200_000_000
            #expect(try writer.write([Fixtures.tradeEvent(ts: boundary), Fixtures.tradeEvent(ts: boundary - 1)]).inserted == 2)
            #expect(try connection.count("md_trade_2020_02") == 2)
            #expect(try connection.count("md_trade_2020_01") == 2)
        }
    }

    @Test("a terminated backend throws .connectivity and commits nothing")
    func connectivity() throws {
        try Fixtures.withStore { writer, connection, dsn in
            // Warm the caches so the first statement of the write is the batch itself.
            #expect(try writer.write([Fixtures.tradeEvent(tags: [Tag(key: "core.symbol", value: "AAPL")])]).inserted == 1)
            let killer = try PGConnection(dsn: dsn, logger: Fixtures.logger)
            defer { killer.close() }
            _ = try killer.query("SELECT pg_terminate_backend($1::int)", [String(connection.backendPID)])
            Thread.sleep(forTimeInterval: 0.2)
            let batch = (0..<10).map { _ in Fixtures.tradeEvent(tags: [Tag(key: "core.symbol", value: "AAPL")]) }
            do throws(StoreError) {
                _ = try writer.write(batch)
                Issue.record("write on a terminated backend did not throw")
            } catch {
                guard case .connectivity = error else {
                    Issue.record("expected .connectivity, got \(error)")
                    return
                }
            }
            #expect(try killer.count("md_trade") == 1)
            #expect(try killer.count("event_tag_links") == 1)

            // The caller's retry on a new connection and writer stores the batch once.
            let fresh = try PGConnection(dsn: dsn, logger: Fixtures.logger)
            defer { fresh.close() }
            let retry = EventWriter(connection: fresh, logger: Fixtures.logger)
            #expect(try retry.write(batch).inserted == 10)
            #expect(try killer.count("md_trade") == 11)
        }
    }

    @Test("a missing family table is a database error, not a rejection")
    func missingTable() throws {
        try Fixtures.withStore { writer, _, _ in
            var event = Fixtures.tradeEvent()
            event.family?.name = "nosuchfamily"
            do throws(StoreError) {
                _ = try writer.write([event])
                Issue.record("write to a missing table did not throw")
            } catch {
                guard case .database = error else {
                    Issue.record("expected .database, got \(error)")
                    return
                }
            }
        }
    }

    @Test("rawCopy stores the typed rows and nothing else")
    func rawCopy() throws {
        try Fixtures.withStore { writer, connection, _ in
            let batch = (0..<10).map { _ in Fixtures.tradeEvent(tags: [Tag(key: "x", value: "y")]) }
                + [Fixtures.genericEvent()]
            try writer.rawCopy(batch)
            #expect(try connection.count("md_trade") == 10)
            #expect(try connection.count("events") == 0)
            #expect(try connection.count("event_tag_links") == 0)
        }
    }
}

/// Collects results from writer threads.
final class ReportBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<WriteReport, StoreError>] = []

    func add(_ result: Result<WriteReport, StoreError>) {
        lock.lock()
        results.append(result)
        lock.unlock()
    }

    var all: [Result<WriteReport, StoreError>] {
        lock.lock()
        defer { lock.unlock() }
        return results
    }
}
