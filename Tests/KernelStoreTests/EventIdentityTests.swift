import Foundation
import KernelEvents
import KernelPlugins
import KernelPostgres
import KernelStore
import Testing

/// `event_id` is the identity of an event (docs/producers.md, "Event identity"): a repeated id
/// never adds a row, whatever its ts, its storage (generic or typed) or its path (fast, dedup);
/// first write wins; a copy with other content is a conflict, with the same content a duplicate.
@Suite("Event identity (live Postgres)", .serialized)
struct EventIdentityTests {
    private func source(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A trade event that came in the envelope `envelope` (a repeated id is judged on those bytes).
    private func trade(id: EventUUID = Fixtures.randomUUID(), ts: Int64 = Fixtures.nowMicros, side: String = "buy",
                       tags: [KernelPlugins.Tag] = [], redelivery: Bool = false, envelope: String) -> StoredEvent {
        var event = Fixtures.tradeEvent(id: id, ts: ts, side: side, tags: tags, redelivery: redelivery)
        event.sourcePayload = source(envelope)
        return event
    }

    @Test("the same event_id with another ts is not stored twice: the later copy is a conflict")
    func sameIDAnotherTs() throws {
        try Fixtures.withStore { writer, connection, _ in
            let id = Fixtures.randomUUID()
            let first = trade(id: id, envelope: "envelope 1")
            let second = trade(id: id, ts: Fixtures.nowMicros + 1_000_000, envelope: "envelope 2: another ts")
            #expect(try writer.write([first]).inserted == 1)
            let report = try writer.write([second])
            #expect(report.inserted == 0 && report.duplicates == 0)
            #expect(report.conflicts.map(\.index) == [0], "\(report.conflicts)")
            #expect(try connection.count("md_trade", where: "event_id = '\(id)'") == 1)
            #expect(try connection.count("event_ids", where: "event_id = '\(id)'") == 1)
        }
    }

    @Test("the same copy again (same bytes, another ts from a redelivery path) is a duplicate, stored once")
    func sameContentIsADuplicate() throws {
        try Fixtures.withStore { writer, connection, _ in
            let id = Fixtures.randomUUID()
            let event = trade(id: id, envelope: "the envelope")
            #expect(try writer.write([event]).inserted == 1)
            for redelivery in [false, true] {
                var again = event
                again.mayBeRedelivery = redelivery
                let report = try writer.write([again])
                #expect(report.inserted == 0 && report.duplicates == 1 && report.conflicts.isEmpty, "\(report)")
            }
            #expect(try connection.count("md_trade", where: "event_id = '\(id)'") == 1)
        }
    }

    @Test("an event stored generically is not stored again in a typed table (storage switched)")
    func acrossStorage() throws {
        try Fixtures.withStore { writer, connection, _ in
            let id = Fixtures.randomUUID()
            var generic = Fixtures.genericEvent(id: id)
            generic.sourcePayload = source("one envelope")
            #expect(try writer.write([generic]).inserted == 1)
            let typed = trade(id: id, redelivery: true, envelope: "one envelope")
            let report = try writer.write([typed])
            #expect(report.inserted == 0 && report.duplicates == 1, "\(report)")
            #expect(try connection.count("md_trade", where: "event_id = '\(id)'") == 0)
            #expect(try connection.count("events", where: "event_id = '\(id)'") == 1)
        }
    }

    @Test("two copies of one id inside a batch: same content once, other content a conflict")
    func twinsInOneBatch() throws {
        try Fixtures.withStore { writer, connection, _ in
            let same = Fixtures.randomUUID(), other = Fixtures.randomUUID()
            let a = trade(id: same, envelope: "a")
            let b = trade(id: same, ts: Fixtures.nowMicros + 7, envelope: "a")
            let c = trade(id: other, envelope: "c")
            let d = trade(id: other, ts: Fixtures.nowMicros + 9, envelope: "d")
            let report = try writer.write([a, b, c, d])
            #expect(report.inserted == 2 && report.duplicates == 1 && report.total == 4, "\(report)")
            #expect(report.conflicts.map(\.index) == [3], "the later copy with other bytes, d")
            #expect(try connection.count("md_trade", where: "event_id IN ('\(same)', '\(other)')") == 2)
        }
    }

    @Test("a later copy with other bytes, written in a second pass, is reported at its own index in the batch")
    func deferredTwinReportedAtItsIndex() throws {
        try Fixtures.withStore { writer, connection, _ in
            let id = Fixtures.randomUUID()
            let first = trade(id: id, side: "sideways", envelope: "first")
            let later = trade(id: id, ts: Fixtures.nowMicros + 3, side: "sideways", envelope: "later")
            var batch = (0..<4).map { i in trade(envelope: "ok \(i)") }
            batch.insert(first, at: 1)
            batch.insert(later, at: 4)
            let report = try writer.write(batch)
            #expect(report.inserted == 4 && report.total == 6, "\(report)")
            // The first copy fails its CHECK in the first pass; the later one, alone in the second
            // pass (its index there 0), fails it too and is named by its index here.
            #expect(report.rejected.map(\.index).sorted() == [1, 4], "\(report)")
            #expect(report.rejected.allSatisfy { $0.reason.contains("23514") }, "\(report)")
            #expect(try connection.count("md_trade", where: "event_id = '\(id)'") == 0)
        }
    }

    /// Observed under load: a conflicting copy and a byte-identical retry of a stored event landed
    /// in one batch; the retry was judged against the conflicting copy (a conflict) instead of
    /// against what was stored (a duplicate).
    @Test("a stored event's retry and a conflicting copy in one batch: duplicate and conflict")
    func retryAndConflictInOneBatch() throws {
        try Fixtures.withStore { writer, connection, _ in
            let id = Fixtures.randomUUID()
            let first = trade(id: id, envelope: "first")
            #expect(try writer.write([first]).inserted == 1)
            let other = trade(id: id, ts: Fixtures.nowMicros + 5, envelope: "other")
            let retry = first
            let report = try writer.write([other, retry])
            #expect(report.inserted == 0 && report.duplicates == 1, "\(report)")
            #expect(report.conflicts.map(\.index) == [0], "the conflicting copy, not the retry")
            #expect(try connection.count("md_trade", where: "event_id = '\(id)'") == 1)
        }
    }

    @Test("a conflict inside a batch of new events leaves the others stored (dedup path)")
    func conflictAmongNewEvents() throws {
        try Fixtures.withStore { writer, connection, _ in
            let taken = Fixtures.randomUUID()
            var first = Fixtures.genericEvent(id: taken); first.sourcePayload = source("first")
            #expect(try writer.write([first]).inserted == 1)
            var batch: [StoredEvent] = []
            for i in 1...20 {
                batch.append(trade(tags: [Tag(key: "k", value: "v\(i % 3)")], envelope: "new \(i)"))
            }
            let clash = trade(id: taken, envelope: "second")
            batch.insert(clash, at: 10)
            let report = try writer.write(batch)
            #expect(report.inserted == 20 && report.conflicts.map(\.index) == [10], "\(report)")
            #expect(try connection.count("md_trade") == 20)
            #expect(try connection.count("event_tag_links", where: "event_id = '\(taken)'") == 0, "no tag rows for the conflict")
            #expect(try connection.count("event_tag_links") == 20)
        }
    }
}
