import Foundation
import KernelEvents
import Testing

/// Several kernels on one consumer group (issue 8), as real child processes against real Redis and
/// Postgres: one killed with SIGKILL under load has its unacknowledged entries finished by the
/// others, and dead consumers are removed from the group only once nothing is pending on them.
@Suite("Scale-out", .serialized)
struct ScaleOutTests {
    /// The table every trade event lands in.
    static let stored = "SELECT count(*) FROM md_trade"
    static let storedDistinct = "SELECT count(DISTINCT event_id) FROM md_trade"

    @Test func threeKernelsFinishTheWorkOfOneKilledMidBatch() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let fleet = KernelFleet(h)
        defer { fleet.stopAll() }
        let (_, subject, _, token) = try h.boundProducer()
        let total = 30_000
        try Self.startJoined(h, fleet, ["k1", "k2", "k3"], claimIdleMs: 1000)

        // Publishing holds at half-way (trickling) until k2 is dead, so events keep arriving after
        // the kill.
        let publisher = SteadyPublisher(streamKey: h.streamKey, subject: subject, token: token, total: total,
                                        perTick: 250, tickMs: 50, holdAt: total / 2)
        publisher.start()
        defer { publisher.stop() }

        // Kill k2 once events are being stored, at a moment it holds a batch's worth of entries it
        // read but has not acknowledged.
        let orphaned = try Self.killK2HoldingPending(h, fleet, publisher, onceStored: 500, atLeast: 50)
        #expect(try fleet.pendingIDs(of: "k2") == orphaned)

        try Self.expectEveryEventStoredOnce(h, publisher, total: total, timeout: 90)

        // k2's entries were claimed by the survivors (k2 was never restarted).
        #expect(try fleet.pendingIDs(of: "k2").isEmpty)
        #expect((try fleet.consumers()["k2"]?.pending ?? 0) == 0)
        let claimed = fleet.claimedCount("k1") + fleet.claimedCount("k3")
        #expect(claimed >= orphaned.count, "survivors claimed \(claimed) entries; k2 left \(orphaned.count)")

        for name in ["k1", "k3"] {
            let exit = fleet.terminate(name)
            #expect(exit.clean, "\(name) exit status \(exit.status) on SIGTERM")
        }
        #expect(try h.pendingCount() == 0)
    }

    @Test func aDeadKernelIsRemovedFromTheGroupOnceItsEntriesAreClaimed() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let fleet = KernelFleet(h)
        defer { fleet.stopAll() }
        let (_, subject, _, token) = try h.boundProducer()
        let total = 4000
        try Self.startJoined(h, fleet, ["k1", "k2"], claimIdleMs: 500, deadConsumerMs: 2000)

        // Publishing holds at 3/4 (trickling) until k2 is dead; k2 only has to hold an entry or
        // more when it dies (a fast machine drains the first part before a larger catch, and a
        // kernel blocked in XREADGROUP is handed one entry of each trickle).
        let publisher = SteadyPublisher(streamKey: h.streamKey, subject: subject, token: token, total: total,
                                        perTick: 100, tickMs: 50, holdAt: total * 3 / 4)
        publisher.start()
        defer { publisher.stop() }
        let orphaned = try Self.killK2HoldingPending(h, fleet, publisher, onceStored: 200, atLeast: 1)

        // k1 claims what k2 left, then removes k2: idle past dead_consumer_ms with nothing pending.
        let removed = h.waitUntil(timeout: 60) { try fleet.consumers()["k2"] == nil }
        #expect(removed, "k2 removed from the group (consumers now \((try? fleet.consumers()) ?? [:]))")
        #expect(try fleet.consumers()["k1"] != nil, "the live kernel stays in the group")
        if removed {
            #expect(Self.loggedRemoval(fleet, by: "k1", of: "k2"), "k1 logged the removal of k2")
        }

        // Nothing lost with it: removing a consumer drops its pending list, so it must have been empty.
        try Self.expectEveryEventStoredOnce(h, publisher, total: total, timeout: 60, "k2 had left \(orphaned.count) pending")
        let exit = fleet.terminate("k1")
        #expect(exit.clean, "k1 exit status \(exit.status) on SIGTERM")
    }

    @Test func aConsumerWithPendingEntriesIsNeverRemoved() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let fleet = KernelFleet(h)
        defer { fleet.stopAll() }
        let (_, subject, _, token) = try h.boundProducer()

        // "ghost" read an entry and never acknowledged it; "idler" joined and holds nothing.
        try fleet.createGroup()
        try h.publish(payload: nil, token: nil)
        let held = try fleet.readOne(as: "ghost")
        try h.redis.command(["XGROUP", "CREATECONSUMER", h.streamKey, fleet.group, "idler"])
        // Both idle past dead_consumer_ms before the kernel starts, so its first sweep sees both.
        #expect(h.waitUntil(timeout: 10) {
            let c = try fleet.consumers()
            return (c["ghost"]?.idleMs ?? 0) > 1500 && (c["idler"]?.idleMs ?? 0) > 1500
        })

        // claim_idle_ms far beyond the test: k1 never claims ghost's entry, so ghost stays pending.
        try fleet.start("k1", claimIdleMs: 600_000, deadConsumerMs: 1000)
        for i in 0..<50 {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(i + 1)","size":"1"}"#),
                          token: token)
        }
        #expect(h.waitUntil(timeout: 60) { try h.count(Self.stored) == 50 }, "k1 is working")
        // The idler's removal shows the sweep ran with ghost as stale as the idler.
        #expect(h.waitUntil(timeout: 30) { try fleet.consumers()["idler"] == nil }, "idle consumer with nothing pending removed")
        // A few more sweeps (one a second at this setting) must leave ghost alone.
        Thread.sleep(forTimeInterval: 3)
        let consumers = try fleet.consumers()
        #expect(consumers["ghost"]?.pending == 1, "ghost kept with its pending entry: \(consumers)")
        #expect(consumers["ghost"].map { $0.idleMs > 1000 } ?? false, "ghost was idle past dead_consumer_ms")
        #expect(try fleet.pendingIDs(of: "ghost") == [held])
        #expect(consumers["k1"] != nil)
        #expect(!Self.loggedRemoval(fleet, by: "k1", of: "ghost"))

        // Clean up: acknowledge ghost's entry and remove it, as an operator would.
        try h.redis.command(["XACK", h.streamKey, fleet.group, held])
        try h.redis.command(["XGROUP", "DELCONSUMER", h.streamKey, fleet.group, "ghost"])
        let exit = fleet.terminate("k1")
        #expect(exit.clean, "k1 exit status \(exit.status) on SIGTERM")
    }

    // MARK: steps the tests share

    /// Starts the kernels `names` and waits until each has joined the group (a kernel joins when
    /// it first reads its own pending list, at start).
    static func startJoined(_ h: IngestHarness, _ fleet: KernelFleet, _ names: [String],
                            claimIdleMs: Int, deadConsumerMs: Int? = nil) throws {
        for name in names { try fleet.start(name, claimIdleMs: claimIdleMs, deadConsumerMs: deadConsumerMs) }
        #expect(h.waitUntil(timeout: 60) { Set(try fleet.consumers().keys).isSuperset(of: names) },
                "\(names) joined the group")
    }

    /// Once `onceStored` events are stored, kills k2 with SIGKILL at a moment it holds at least
    /// `atLeast` entries it read but has not acknowledged, then lets `publisher` go on past its
    /// hold. Returns the entries k2 left pending.
    static func killK2HoldingPending(_ h: IngestHarness, _ fleet: KernelFleet, _ publisher: SteadyPublisher,
                                     onceStored: Int, atLeast: Int) throws -> [String] {
        #expect(h.waitUntil(timeout: 60) { try h.count(stored) >= onceStored }, "events are being stored")
        let orphaned = try fleet.kill9HoldingPending("k2", atLeast: atLeast)
        publisher.release()
        #expect(!orphaned.isEmpty, "k2 died holding pending entries")
        return orphaned
    }

    /// Everything `publisher` published (`total`) stored exactly once, nothing pending, none
    /// dead-lettered; `timeout` for the publishing and again for the draining.
    static func expectEveryEventStoredOnce(_ h: IngestHarness, _ publisher: SteadyPublisher, total: Int, timeout: Double,
                                           _ detail: String = "") throws {
        #expect(publisher.waitFinished(timeout: timeout), "published \(publisher.count) of \(total) \(publisher.error ?? "")")
        let drained = h.waitUntil(timeout: timeout) { try h.count(stored) >= total && h.pendingCount() == 0 }
        #expect(drained, "stored \((try? h.count(stored)) ?? -1) of \(total), pending \((try? h.pendingCount()) ?? -1) \(detail)")
        #expect(try h.count(stored) == total)
        #expect(try h.count(storedDistinct) == total, "no event stored twice")
        #expect(try h.deadLetters().isEmpty)
    }

    /// Whether `kernel` logged removing the dead consumer `consumer` from the group.
    static func loggedRemoval(_ fleet: KernelFleet, by kernel: String, of consumer: String) -> Bool {
        fleet.logEntries(kernel, message: "removed dead consumer").contains {
            ($0["fields"] as? [String: Any])?["consumer"] as? String == consumer
        }
    }
}
