import Foundation
import KernelEvents
import Testing

/// `plugins.isolation: process`: the crash plugin runs in a plugin-host child. Its abort, NULL
/// dereference, stack overflow or endless loop ends only the child: the kernel process is the
/// same from start to end (the supervisor never restarts it), a family the plugin does not serve
/// is stored throughout, the culprit alone is dead-lettered (`poison_message`, naming the plugin,
/// its version and the signal) within `plugins.crash_strikes` child deaths, and every good event
/// is stored exactly once.
@Suite("Plugin crashes, process isolation", .serialized)
struct PluginIsolationTests {
    @Test(arguments: PluginCrashTests.Mode.allCases)
    func aCrashEndsOnlyTheChildAndOnlyTheCulpritIsDeadLettered(mode: PluginCrashTests.Mode) throws {
        try run(mode: mode, withBatch: false, maxDeaths: 2)
    }

    /// A `normalize_batch` plugin: the first death names the batch, whose entries are then
    /// retried one call each; the culprit needs `crash_strikes` more.
    @Test func aBatchCallCrashMakesSuspectsAndOnlyTheCulpritIsDeadLettered() throws {
        try run(mode: .abort, withBatch: true, maxDeaths: 3)
    }

    /// A plugin that dies on every event of its family: the child keeps dying, its backoff grows
    /// (its family's entries wait in Redis meanwhile), each entry is dead-lettered after
    /// `crash_strikes` deaths, and the other family is stored in full by the same kernel process.
    @Test func aChildThatKeepsDyingHoldsUpOnlyItsFamily() throws {
        let env = try CrashEnv(mode: .abort, isolation: "process")
        defer { env.tearDown() }
        let h = env.h
        let (_, other, _, otherToken) = try h.boundProducer(family: "otherfam")
        for i in 0..<2000 {
            if i % 400 == 0 {
                try h.publish(payload: IngestHarness.envelope(subject: env.subject, payload: #"{"seq":\#(i),"crash":true}"#),
                              token: env.token, id: "bad-\(i)")
            }
            try h.publish(payload: IngestHarness.envelope(subject: other, payload: #"{"n":\#(i)}"#), token: otherToken)
        }
        let supervisor = Supervisor(env: env, names: ["k1"])
        defer { supervisor.stopAll() }
        let settled = supervisor.run(timeout: 120) {
            try h.deadLetters().count >= 5 && h.count("SELECT count(*) FROM events") >= 2000 && h.pendingCount() == 0
        }
        #expect(settled, "other \(String(describing: try? h.count("SELECT count(*) FROM events"))), dlq \(String(describing: try? h.deadLetters().count)), pending \(String(describing: try? h.pendingCount()))")
        #expect(supervisor.crashes == 0, "the kernel process never died: \(supervisor.crashes) restarts")
        #expect(try h.count("SELECT count(*) FROM events") == 2000, "the other family stored once, all of it")
        #expect(try h.count("SELECT count(*) FROM md_crashfam") == 0)
        let letters = try h.deadLetters()
        #expect(Set(letters.map(\.id)) == Set((0..<5).map { "bad-\($0 * 400)" }))
        #expect(letters.allSatisfy { $0.reason == "poison_message" && $0.detail.contains("SIGABRT") })
    }

    private func run(mode: PluginCrashTests.Mode, withBatch: Bool, maxDeaths: Int) throws {
        let env = try CrashEnv(mode: mode, withBatch: withBatch, isolation: "process")
        defer { env.tearDown() }
        let h = env.h
        // A family no plugin serves (the generic table), published around the bad event.
        let (_, other, _, otherToken) = try h.boundProducer(family: "otherfam")
        func publishOther(_ n: Int, from: Int) throws {
            for i in from..<(from + n) {
                try h.publish(payload: IngestHarness.envelope(subject: other, payload: #"{"n":\#(i)}"#), token: otherToken)
            }
        }
        try publishOther(500, from: 0)
        try env.publish(good: 1000, bad: 1, goodAfter: 1000)
        try publishOther(500, from: 500)
        let supervisor = Supervisor(env: env, names: ["k1"])
        defer { supervisor.stopAll() }
        let settled = supervisor.run(timeout: 120) {
            try env.settled(good: 2000) && h.count("SELECT count(*) FROM events") >= 1000
        }
        #expect(settled, "rows \(String(describing: try? h.count("SELECT count(*) FROM md_crashfam"))), other \(String(describing: try? h.count("SELECT count(*) FROM events"))), dlq \(String(describing: try? h.deadLetters().count)), pending \(String(describing: try? h.pendingCount()))")
        #expect(supervisor.crashes == 0, "the kernel process never died: \(supervisor.crashes) restarts")
        try env.expectEveryGoodEventOnceAndOnlyTheCulpritDeadLettered(good: 2000, mode: mode)
        #expect(try h.count("SELECT count(*) FROM events") == 1000, "the other family stored once, all of it")
        let log = (try? String(contentsOfFile: env.fleet.logPath("k1"), encoding: .utf8)) ?? ""
        let deaths = log.components(separatedBy: "plugin-host process died").count - 1
        #expect(deaths >= 1, "the child did die")
        #expect(deaths <= maxDeaths, "dead-lettered within \(maxDeaths) child deaths, not \(deaths)")
    }
}
