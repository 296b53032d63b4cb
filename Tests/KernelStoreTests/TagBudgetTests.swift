import KernelEvents
import KernelPlugins
import KernelPostgres
import KernelStore
import Testing

/// One producer cannot grow the global tag dictionary without bound (docs/producers.md,
/// "Limits"): each new dictionary entry records the producer that added it, and past its budget
/// the producer's events that need a new entry are refused as over budget
/// (`tag_budget_exceeded`), while other producers and tags that exist go on.
@Suite("Tag dictionary budget per producer (live Postgres)", .serialized)
struct TagBudgetTests {
    @Test("past its budget a producer's events with new tags are refused; known tags and other producers still work")
    func budget() throws {
        try Fixtures.withStore { writer, connection, _ in
            writer.tagBudgetPerProducer = 3
            // Before the fix, 10 distinct values from one producer made 10 dictionary entries.
            let flood = (0..<10).map { i in
                Fixtures.tradeEvent(tags: [Tag(key: "order", value: "id-\(i)")])
            }
            let report = try writer.write(flood)
            #expect(report.inserted == 3, "\(report)")
            #expect(report.overBudget.count == 7 && report.rejected.isEmpty, "\(report)")
            #expect(report.overBudget.allSatisfy { $0.detail.contains("server.max_tags_per_producer") }, "\(report.overBudget)")
            #expect(try connection.count("tags", where: "key = 'order'") == 3)
            #expect(try connection.count("tags", where: "created_by = '\(Fixtures.producer)'") == 3)

            // A tag already in the dictionary costs nothing: the producer at its budget goes on.
            let known = Fixtures.tradeEvent(tags: [Tag(key: "order", value: "id-0")])
            #expect(try writer.write([known]).inserted == 1)

            // Another producer has a budget of its own.
            var other = Fixtures.tradeEvent(tags: [Tag(key: "order", value: "id-99")])
            other.producerID = Fixtures.randomUUID()
            let second = try writer.write([other])
            #expect(second.inserted == 1 && second.overBudget.isEmpty, "\(second)")

            // Entries from before the budget (no producer recorded) count against nobody.
            try connection.execute("UPDATE tags SET created_by = NULL WHERE created_by = '\(Fixtures.producer)'")
            let again = try writer.write([Fixtures.tradeEvent(tags: [Tag(key: "order", value: "id-7")])])
            #expect(again.inserted == 1, "\(again)")
        }
    }

    @Test("a writer's accounting still adds up: inserted + duplicates + rejected + conflicts + over budget = batch")
    func accounting() throws {
        try Fixtures.withStore { writer, _, _ in
            writer.tagBudgetPerProducer = 1
            let id = Fixtures.randomUUID()
            let batch = [
                Fixtures.tradeEvent(tags: [Tag(key: "k", value: "a")]),
                Fixtures.tradeEvent(id: id, tags: [Tag(key: "k", value: "b")]),
                Fixtures.tradeEvent(id: id, tags: [Tag(key: "k", value: "b")]),   // an in-batch copy
            ]
            let report = try writer.write(batch)
            #expect(report.inserted == 1)
            #expect(Set(report.overBudget.map(\.index)) == [1, 2], "\(report)")
            #expect(report.inserted + report.duplicates + report.rejected.count + report.conflicts.count
                    + report.overBudget.count == batch.count)
        }
    }
}
