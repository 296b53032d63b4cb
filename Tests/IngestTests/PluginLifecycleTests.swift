import Foundation
import KernelConfig
import KernelCore
import KernelEvents
import KernelPlugins
import KernelRedis
import KernelTestSupport
import Logging
import Testing

/// Plugin lifecycle against a real kernel (in process), real Redis and Postgres: hot add, upgrade
/// and removal under load, refused files, quarantine, reload. Each test has its own plugins
/// directory with plugins compiled from Tests/Fixtures/c/lifecycle/lcplugin.c.
@Suite("Plugin lifecycle", .serialized)
struct PluginLifecycleTests {
    @Test func hotAddUnderLoadSwitchesFamilyToTypedStorageWithExactCount() throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        let (_, subject, _, token) = try env.h.boundProducer(family: "lcfam")
        let plugin = try env.build(name: "lc", version: "1.0.0")
        try env.start()
        let load = loadUnderWay(env, subject: subject, token: token)
        try env.install(plugin, as: "liblc.so")
        load.wait()
        #expect(load.failures == 0)
        let h = env.h
        #expect(h.waitUntil(timeout: 20) { try h.count("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM md_lcfam)") == 600 },
                "events: \(String(describing: try? h.count("SELECT count(*) FROM events")))")
        #expect(h.waitUntil { try h.pendingCount() == 0 })
        let generic = try h.count("SELECT count(*) FROM events")
        let typed = try h.count("SELECT count(DISTINCT event_id) FROM md_lcfam")
        #expect(generic > 0 && typed > 0, "before the add generic, after it typed (generic \(generic), typed \(typed))")
        #expect(generic + typed == 600, "no event lost")
        #expect(try h.count("SELECT count(*) FROM events e JOIN md_lcfam m USING (event_id)") == 0, "no event stored twice")
        #expect(try h.count("SELECT count(*) FROM md_lcfam") == typed, "one row per event")
        #expect(try h.deadLetters().isEmpty)
        // Generic before, typed after: the switch is one point in the stream.
        let lastGeneric = try h.count("SELECT max((payload->>'seq')::int) FROM events")
        let firstTyped = try h.count("SELECT min(seq) FROM md_lcfam")
        #expect(lastGeneric < firstTyped, "generic up to seq \(lastGeneric), typed from seq \(firstTyped)")
        #expect(env.lifecycle!.status.active.map(\.name) == ["lc"])
        #expect(env.router.metrics.loadsTotal.load(ordering: .relaxed) == 1)
        #expect(env.router.metrics.familySnapshots.first { $0.family == "lcfam" }?.events == typed)
    }

    @Test func upgradeUnderLoadSwitchesAtABatchBoundaryAndRetiresTheOldVersion() throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        let (_, subject, _, token) = try env.h.boundProducer(family: "lcfam")
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        let v2 = try env.build(name: "lc", version: "2.0.0")
        try env.start()
        #expect(env.lifecycle!.status.active.map(\.version) == ["1.0.0"])
        let load = loadUnderWay(env, subject: subject, token: token)
        // Renamed over the loaded file: the loader must still get the new code (a snapshot).
        try env.install(v2, as: "liblc.so")
        load.wait()
        #expect(load.failures == 0)
        let h = env.h
        try expectAll600StoredOnce(h)
        #expect(try h.count("SELECT count(*) FROM events") == 0)
        try expectOneSwitchFromV1ToV2(h)
        let status = env.lifecycle!.status
        #expect(status.active.map(\.version) == ["2.0.0"])
        #expect(status.retired.map { "\($0.version) \($0.reason)" } == ["1.0.0 upgraded"])
        #expect(env.router.metrics.upgradesTotal.load(ordering: .relaxed) == 1)

        // A downgrade (and the same version again) is refused; 2.0.0 keeps serving.
        try env.install(try env.build(name: "lc", version: "1.5.0"), as: "liblc-old.so")
        #expect(h.waitUntil { env.lifecycle!.status.refused.contains { $0.path.hasSuffix("liblc-old.so") && $0.reasonCode == "version_not_newer" } })
        try env.install(try env.build(name: "lc", version: "2.0.0"), as: "liblc-same.so")
        #expect(h.waitUntil { env.lifecycle!.status.refused.contains { $0.path.hasSuffix("liblc-same.so") && $0.reasonCode == "version_not_newer" } })
        #expect(env.lifecycle!.status.active.map(\.version) == ["2.0.0"])
        #expect(env.logs.lines.contains { $0.contains("version_not_newer") && $0.contains("liblc-old.so") })
    }

    /// The same upgrade with the plugin in a child process: the switch still falls on one batch
    /// boundary, every event is stored once, and the old version's child is ended (one
    /// plugin-host child left, serving 2.0.0). A downgrade is refused and changes nothing.
    @Test func upgradeUnderLoadInProcessIsolationStartsAChildForTheNewVersion() throws {
        let env = try LifecycleEnv(isolation: "process")
        defer { env.tearDown() }
        let (_, subject, _, token) = try env.h.boundProducer(family: "lcfam")
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        let v2 = try env.build(name: "lc", version: "2.0.0")
        try env.start()
        let load = loadUnderWay(env, subject: subject, token: token)
        try env.install(v2, as: "liblc.so")
        load.wait()
        let h = env.h
        try expectAll600StoredOnce(h)
        try expectOneSwitchFromV1ToV2(h)
        #expect(env.lifecycle!.status.active.map(\.version) == ["2.0.0"])
        #expect(Self.pluginHostChildren().count == 1, "the 1.0.0 child ended: \(Self.pluginHostChildren())")
        try env.install(try env.build(name: "lc", version: "1.5.0"), as: "liblc-old.so")
        #expect(h.waitUntil { env.lifecycle!.status.refused.contains { $0.path.hasSuffix("liblc-old.so") && $0.reasonCode == "version_not_newer" } })
        #expect(env.lifecycle!.status.active.map(\.version) == ["2.0.0"])
    }

    /// Starts publishing `count` events at `perSecond` and returns `lead` seconds later, so what
    /// the test does next happens under load.
    func loadUnderWay(_ env: LifecycleEnv, subject: EventUUID, token: String, count: Int = 600, perSecond: Double = 300,
                      lead: TimeInterval = 0.7) -> Publisher {
        let load = Publisher(h: env.h, subject: subject, token: token, count: count, perSecond: perSecond)
        Thread.sleep(forTimeInterval: lead)
        return load
    }

    /// The 600 events of `loadUnderWay` are all stored in `md_lcfam`, each once, none pending.
    func expectAll600StoredOnce(_ h: IngestHarness) throws {
        #expect(h.waitUntil(timeout: 20) { try h.count("SELECT count(*) FROM md_lcfam") == 600 })
        #expect(h.waitUntil { try h.pendingCount() == 0 })
        #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_lcfam") == 600, "no event lost or stored twice")
    }

    /// Both 1.0.0 and 2.0.0 stored rows, and every 1.0.0 row comes before every 2.0.0 row.
    func expectOneSwitchFromV1ToV2(_ h: IngestHarness) throws {
        let v1Rows = try h.count("SELECT count(*) FROM md_lcfam WHERE plugin_version = '1.0.0'")
        let v2Rows = try h.count("SELECT count(*) FROM md_lcfam WHERE plugin_version = '2.0.0'")
        #expect(v1Rows > 0 && v2Rows > 0, "v1 \(v1Rows), v2 \(v2Rows)")
        let lastV1 = try h.count("SELECT max(seq) FROM md_lcfam WHERE plugin_version = '1.0.0'")
        let firstV2 = try h.count("SELECT min(seq) FROM md_lcfam WHERE plugin_version = '2.0.0'")
        #expect(lastV1 < firstV2, "v1 up to seq \(lastV1), v2 from seq \(firstV2): one switch point")
    }

    /// The command lines of this process's `kernel plugin-host` children.
    static func pluginHostChildren() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        let pids = tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/self/task/\(task)/children", encoding: .utf8)) ?? "").split(separator: " ")
        }
        return pids.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return line.contains("plugin-host") ? line : nil
        }
    }

    /// An upgrade that adds a nullable column, taken under load with small batches and one
    /// writer, so queued batches of both versions (two column layouts) are merged into one
    /// transaction around the switch. Every event is stored exactly once, typed, none refused.
    @Test func columnAddingUpgradeUnderLoadStoresEveryEventOnceTyped() throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        let (_, subject, _, token) = try env.h.boundProducer(family: "lcfam")
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        let v2 = try env.build(name: "lc", version: "2.0.0", defines: [#"EXTRA_COLUMN="note""#])
        try env.start(batchSize: 5, writeConnections: 1)
        let load = loadUnderWay(env, subject: subject, token: token, count: 3000, perSecond: 1500, lead: 0.8)
        try env.install(v2, as: "liblc.so")
        load.wait()
        #expect(load.failures == 0)
        let h = env.h
        #expect(h.waitUntil(timeout: 30) { try h.count("SELECT count(*) FROM md_lcfam") == 3000 && h.pendingCount() == 0 },
                "stored \(String(describing: try? h.count("SELECT count(*) FROM md_lcfam"))), dead letters \((try? h.deadLetters().count) ?? -1)")
        #expect(try h.deadLetters().isEmpty, "\((try? h.deadLetters().prefix(2)) ?? [])")
        #expect(try h.count("SELECT count(DISTINCT event_id) FROM md_lcfam") == 3000, "no event lost or stored twice")
        #expect(try h.count("SELECT count(*) FROM events") == 0)
        let v1Rows = try h.count("SELECT count(*) FROM md_lcfam WHERE plugin_version = '1.0.0' AND note IS NULL")
        let v2Rows = try h.count("SELECT count(*) FROM md_lcfam WHERE plugin_version = '2.0.0' AND note = '2.0.0'")
        #expect(v1Rows > 0 && v2Rows > 0 && v1Rows + v2Rows == 3000, "v1 \(v1Rows), v2 \(v2Rows)")
        #expect(env.lifecycle!.status.active.map(\.version) == ["2.0.0"])
        #expect(env.lifecycle!.status.retired.map { "\($0.version) \($0.reason)" } == ["1.0.0 upgraded"])
    }

    /// Upgrades an existing table cannot take (a new NOT NULL column; a column retyped) are
    /// refused by the running kernel naming the column, under load; the active version keeps
    /// serving and nothing stalls or is dead-lettered.
    @Test(arguments: [([#"EXTRA_COLUMN="note""#, "EXTRA_FLAGS=0"], "note"), (["SEQ_TEXT"], "seq")])
    func incompatibleUpgradeUnderLoadIsRefusedNamingTheColumn(defines: [String], column: String) throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        let (_, subject, _, token) = try env.h.boundProducer(family: "lcfam")
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        let v2 = try env.build(name: "lc", version: "2.0.0", defines: defines)
        try env.start()
        let load = loadUnderWay(env, subject: subject, token: token)
        try env.install(v2, as: "liblc-2.so")
        let h = env.h
        #expect(h.waitUntil { env.lifecycle!.status.refused.contains { $0.path.hasSuffix("liblc-2.so") } })
        load.wait()
        #expect(load.failures == 0)
        let refusal = env.lifecycle!.status.refused.first { $0.path.hasSuffix("liblc-2.so") }
        #expect(refusal?.reasonCode == "family_table_refused")
        #expect(refusal?.detail.contains("family lcfam column \(column):") == true, "\(String(describing: refusal))")
        #expect(h.waitUntil(timeout: 20) { try h.count("SELECT count(*) FROM md_lcfam") == 600 && h.pendingCount() == 0 })
        #expect(try h.count("SELECT count(*) FROM md_lcfam WHERE plugin_version = '1.0.0'") == 600)
        #expect(try h.deadLetters().isEmpty)
        #expect(env.lifecycle!.status.active.map(\.version) == ["1.0.0"])
    }

    /// An upgrade an existing table cannot take (a new NOT NULL column; a column retyped), refused
    /// by the running kernel and left in the directory, then a restart: start-up refuses it as the
    /// running kernel did (not routed, listed as refused naming the column) and the older
    /// version beside it keeps serving; nothing stalls or is dead-lettered.
    @Test(arguments: [([#"EXTRA_COLUMN="note""#, "EXTRA_FLAGS=0"], "note"), (["SEQ_TEXT"], "seq")])
    func restartRefusesAnIncompatibleUpgradeAndTheOlderVersionKeepsServing(defines: [String], column: String) throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        let h = env.h
        let (_, subject, _, token) = try h.boundProducer(family: "lcfam")
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        try env.start()
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":0}"#), token: token)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_lcfam") == 1 })
        try env.install(try env.build(name: "lc", version: "2.0.0", defines: defines), as: "liblc-2.so")
        #expect(h.waitUntil { env.lifecycle!.status.refused.contains { $0.path.hasSuffix("liblc-2.so") } })

        try env.restart()
        let status = env.lifecycle!.status
        #expect(status.active.map { "\($0.name) \($0.version)" } == ["lc 1.0.0"])
        let refusal = status.refused.first { $0.path.hasSuffix("liblc-2.so") }
        #expect(refusal?.reasonCode == "family_table_refused")
        #expect(refusal?.detail.contains("family lcfam column \(column):") == true, "\(String(describing: refusal))")
        #expect(env.router.registry.route(family: "lcfam", version: 1)?.instance.descriptor.version.description == "1.0.0")
        for i in 1...20 {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":\#(i)}"#), token: token)
        }
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_lcfam") == 21 && h.pendingCount() == 0 },
                "stored \(String(describing: try? h.count("SELECT count(*) FROM md_lcfam"))), dead letters \((try? h.deadLetters().count) ?? -1)")
        #expect(try h.count("SELECT count(*) FROM md_lcfam WHERE plugin_version = '1.0.0'") == 21)
        #expect(try h.count("SELECT count(*) FROM events") == 0)
        #expect(try h.deadLetters().isEmpty)
    }

    /// A typed family whose plugin is removed is parked (kept pending), never stored in the
    /// generic table; when a plugin serves it again its events land in the typed table once.
    @Test func removalParksTheFamilyUntilAPluginServesItAgain() throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        let (_, subject, _, token) = try env.h.boundProducer(family: "lcfam")
        let installed = try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        try env.start()
        let h = env.h
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":1}"#), token: token)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_lcfam") == 1 })
        try FileManager.default.removeItem(atPath: installed)
        #expect(h.waitUntil { env.lifecycle!.status.active.isEmpty })
        for seq in 2...21 {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":\#(seq)}"#), token: token)
        }
        #expect(h.waitUntil { env.router.parking.parkedFamilies.first?.entries == 20 }, "\(env.router.parking.parkedFamilies)")
        #expect(env.router.parking.parkedFamilies.map(\.family) == ["lcfam"])
        #expect(try h.count("SELECT count(*) FROM events") == 0, "never the generic table")
        #expect(try h.pendingCount() == 20, "parked events stay pending in Redis")
        #expect(try h.deadLetters().isEmpty)
        #expect(env.logs.lines.contains { $0.contains("family parked") && $0.contains("lcfam") })
        #expect(env.lifecycle!.status.retired.map(\.reason) == ["removed"])
        // The plugin comes back: every parked event lands in md_lcfam, once.
        try env.install(try env.build(name: "lc", version: "1.1.0"), as: "liblc.so")
        #expect(h.waitUntil(timeout: 20) { try h.count("SELECT count(*) FROM md_lcfam") == 21 && h.pendingCount() == 0 })
        #expect(try h.count("SELECT count(DISTINCT seq) FROM md_lcfam") == 21)
        #expect(try h.count("SELECT count(*) FROM events") == 0)
        #expect(env.router.parking.parkedFamilies.isEmpty)
    }

    @Test func halfWrittenAndGarbageFilesAreRefusedAndTheKernelKeepsRunning() throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        let (_, subject, _, token) = try env.h.boundProducer(family: "lcfam")
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        let other = try env.build(name: "lcother", version: "1.0.0", family: "lcother")
        try env.start()
        let h = env.h
        // Garbage bytes, an ELF header alone, and half of a real plugin, written in place.
        var garbage = [UInt8](repeating: 0, count: 4096)
        for i in garbage.indices { garbage[i] = UInt8.random(in: 0...255) }
        try Data(garbage).write(to: URL(fileURLWithPath: env.pluginsDir + "/garbage.so"))
        let full = try Data(contentsOf: URL(fileURLWithPath: other))
        try full.prefix(64).write(to: URL(fileURLWithPath: env.pluginsDir + "/header-only.so"))
        let halfPath = env.pluginsDir + "/libother.so"
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: halfPath))
        #expect(h.waitUntil {
            Set(env.lifecycle!.status.refused.map { ($0.path as NSString).lastPathComponent }) == ["garbage.so", "header-only.so", "libother.so"]
        }, "\(env.lifecycle!.status.refused)")
        #expect(env.lifecycle!.status.refused.allSatisfy { $0.reasonCode == "not_shared_object" })
        // Still running and still typed.
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":7}"#), token: token)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_lcfam") == 1 })
        // The half-written file is completed in place: it is tried again and loads.
        try full.write(to: URL(fileURLWithPath: halfPath))
        #expect(h.waitUntil { env.lifecycle!.status.active.map(\.name).sorted() == ["lc", "lcother"] })
        #expect(!env.lifecycle!.status.refused.contains { $0.path == halfPath })
        #expect(env.router.registry.route(family: "lcother", version: 1) != nil)
    }

    @Test func pluginOverItsCallBudgetIsQuarantinedParkedAndTheRestKeepFlowing() throws {
        let env = try LifecycleEnv(callBudgetMs: 20)
        defer { env.tearDown() }
        let h = env.h
        let producer = try h.producer()
        let token = try h.token(for: producer)
        let fast = try h.subject(family: "lcfam").subject
        let slow = try h.subject(family: "lcslow").subject
        try h.bind(producer, fast)
        try h.bind(producer, slow)
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        // 60 ms of CPU per event: over the 20 ms budget in CPU time, not only on the wall clock.
        try env.install(try env.build(name: "lcslow", version: "1.0.0", family: "lcslow", spinMs: 60), as: "libslow.so")
        try env.start(batchSize: 10)
        func publish(_ range: Range<Int>) throws {
            for i in range {
                try h.publish(payload: IngestHarness.envelope(subject: slow, payload: #"{"seq":\#(i)}"#), token: token)
                try h.publish(payload: IngestHarness.envelope(subject: fast, payload: #"{"seq":\#(i)}"#), token: token)
            }
        }
        try publish(0..<10)
        #expect(h.waitUntil(timeout: 30) { env.lifecycle!.status.active.first { $0.name == "lcslow" }?.quarantined != nil })
        try publish(10..<40)
        #expect(env.router.metrics.quarantinedPlugins.load(ordering: .relaxed) == 1)
        #expect(env.router.metrics.quarantinesTotal.load(ordering: .relaxed) == 1)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_lcfam") == 40 }, "the other family keeps flowing, typed")
        // The quarantined family is parked: pending in Redis, never in the generic table.
        #expect(h.waitUntil(timeout: 30) {
            try h.count("SELECT count(*) FROM md_lcslow") + (env.router.parking.parkedFamilies.first?.entries ?? 0) == 40
        }, "typed before the quarantine, parked after: \(env.router.parking.parkedFamilies)")
        #expect(try h.count("SELECT count(*) FROM events") == 0, "never the generic table")
        #expect(env.router.parking.parkedFamilies.map(\.family) == ["lcslow"])
        #expect(env.router.registry.route(family: "lcslow", version: 1) == nil)
        #expect(env.router.registry.route(family: "lcfam", version: 1) != nil)
        let slowStats = env.router.metrics.familySnapshots.first { $0.family == "lcslow" }
        #expect((slowStats?.slowCalls ?? 0) >= 3)
        #expect(env.logs.lines.contains { $0.contains("plugin_call_over_budget") })
        #expect(env.logs.lines.contains { $0.contains("plugin_quarantined") })
        #expect(env.logs.lines.contains { $0.contains("family parked") && $0.contains("lcslow") })
        #expect(try h.deadLetters().isEmpty)
        // Replacing the file with a newer version lifts the quarantine, and the parked events
        // land in the typed table, each once.
        try env.install(try env.build(name: "lcslow", version: "1.1.0", family: "lcslow"), as: "libslow.so")
        #expect(h.waitUntil { env.lifecycle!.status.active.first { $0.name == "lcslow" }.map { $0.version == "1.1.0" && $0.quarantined == nil } == true })
        #expect(env.router.registry.route(family: "lcslow", version: 1) != nil)
        #expect(h.waitUntil(timeout: 30) { try h.count("SELECT count(*) FROM md_lcslow") == 40 && h.pendingCount() == 0 })
        #expect(try h.count("SELECT count(DISTINCT seq) FROM md_lcslow") == 40)
        #expect(try h.count("SELECT count(*) FROM events") == 0)
    }

    /// Budgets are CPU time: a plugin whose calls take long on the wall clock while using no
    /// CPU (here it sleeps; on a busy machine it waits for a core) is never quarantined.
    @Test func wallClockTimeWithoutCPUQuarantinesNothing() throws {
        let env = try LifecycleEnv(callBudgetMs: 20)
        defer { env.tearDown() }
        let h = env.h
        let (_, subject, _, token) = try h.boundProducer(family: "lcfam")
        try env.install(try env.build(name: "lc", version: "1.0.0", sleepMs: 60), as: "liblc.so")
        try env.start(batchSize: 10)
        for i in 0..<15 { try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":\#(i)}"#), token: token) }
        #expect(h.waitUntil(timeout: 30) { try h.count("SELECT count(*) FROM md_lcfam") == 15 })
        #expect(env.lifecycle!.status.active.first?.quarantined == nil)
        #expect(env.router.metrics.quarantinesTotal.load(ordering: .relaxed) == 0)
        #expect((env.router.metrics.familySnapshots.first { $0.family == "lcfam" }?.slowCalls ?? 0) == 0)
    }

    /// The issue's observation: a healthy plugin was quarantined while the kernel caught up on two
    /// busy cores (calls of 51–160 ms on the wall clock against a 50 ms budget). Here three
    /// processes spin on the machine's two cores while the kernel drains a backlog through a
    /// plugin that uses 2 ms of CPU per event under a 20 ms budget: nothing is quarantined and
    /// every event lands in its typed table.
    @Test
    func aCPUHogOnEveryCoreDuringABacklogDrainQuarantinesNothing() throws {
        let env = try LifecycleEnv(callBudgetMs: 20)
        defer { env.tearDown() }
        let h = env.h
        let (_, subject, _, token) = try h.boundProducer(family: "lcfam")
        try env.install(try env.build(name: "lc", version: "1.0.0", spinMs: 2), as: "liblc.so")
        let backlog = 1500
        for chunk in stride(from: 0, to: backlog, by: 200) {
            let commands = (chunk..<min(backlog, chunk + 200)).map { i in
                ["XADD", h.streamKey, "*", "payload", IngestHarness.envelope(subject: subject, payload: #"{"seq":\#(i)}"#),
                 "token", token].map { Array($0.utf8) }
            }
            _ = try h.redis.pipeline(commands)
        }
        let hogs = try (0..<3).map { _ in
            let hog = Process()
            hog.executableURL = URL(fileURLWithPath: "/bin/sh")
            // Each hog checks every ~100k turns that the test process still lives and stops after
            // 180 s at most: a test killed by a timeout must not leave spinning shells behind.
            hog.arguments = ["-c", """
                end=$(($(date +%s) + 180)); i=0
                while :; do i=$((i + 1)); if [ $i -ge 100000 ]; then i=0
                  kill -0 \(getpid()) 2>/dev/null || exit 0; [ $(date +%s) -lt $end ] || exit 0; fi; done
                """]
            try hog.run()
            return hog
        }
        // SIGKILL: Foundation's Process starts children with SIGTERM blocked (the mask it hands
        // on), so `terminate()` would wait for the hogs' own 180 s limit.
        defer { for hog in hogs { kill(hog.processIdentifier, SIGKILL); hog.waitUntilExit() } }
        try env.start(batchSize: 50)
        #expect(h.waitUntil(timeout: 120) { try h.count("SELECT count(*) FROM md_lcfam") == backlog })
        #expect(env.router.metrics.quarantinesTotal.load(ordering: .relaxed) == 0)
        #expect(env.lifecycle!.status.active.first?.quarantined == nil)
        #expect(try h.count("SELECT count(*) FROM events") == 0, "nothing re-routed to the generic table")
    }

    @Test func reloadAppliesBudgetAndDirectoryAndLogsChanges() throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        try env.start()
        let h = env.h
        #expect(env.router.callBudgetNanos == 50_000_000)
        let otherDir = env.h.dir + "/plugins2"
        try FileManager.default.createDirectory(atPath: otherDir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try env.build(name: "lcother", version: "1.0.0", family: "lcother"),
                                         toPath: otherDir + "/libother.so")
        let yaml = env.yaml(pluginsDir: otherDir, callBudgetMs: 7)
        let path = try h.configFile(yaml)
        env.lifecycle!.reload(reason: "test", configPath: path)
        #expect(h.waitUntil { env.lifecycle!.status.active.map(\.name) == ["lcother"] })
        #expect(env.router.callBudgetNanos == 7_000_000)
        #expect(env.lifecycle!.status.retired.map { "\($0.name) \($0.reason)" } == ["lc removed"])
        #expect(env.logs.lines.contains { $0.contains("plugins settings reloaded") && $0.contains("call_budget_ms 50 -> 7") })
        #expect(env.logs.lines.contains { $0.contains("plugins directory rescanned") && $0.contains("reason=test") })
        #expect(env.logs.lines.contains { $0.contains("plugin loaded") && $0.contains("plugin=lcother") })
        // An invalid file: logged, the running settings stay, the directory is still rescanned.
        try "plugins: [".write(toFile: path, atomically: true, encoding: .utf8)
        env.lifecycle!.reload(reason: "test", configPath: path)
        #expect(h.waitUntil { env.logs.lines.contains { $0.contains("config_invalid") } })
        #expect(env.router.callBudgetNanos == 7_000_000)
    }

    /// `kernel run` as a child process: hot upgrade through inotify, SIGHUP re-reading the config
    /// file, `kernel plugins list` showing active and retired versions, SIGTERM still draining.
    @Test
    func sighupReloadsTheRunningKernel() throws {
        let env = try LifecycleEnv()
        defer { env.tearDown() }
        let h = env.h
        try env.install(try env.build(name: "lc", version: "1.0.0"), as: "liblc.so")
        let process = try h.startProcess(yaml: env.yaml())
        defer { if process.isRunning { process.terminate() } }
        #expect(h.waitUntil(timeout: 30) { h.logLines().contains { $0.contains("kernel ready") } })
        #expect(h.logLines().contains { $0.contains("plugin lifecycle started") })
        try env.install(try env.build(name: "lc", version: "2.0.0"), as: "liblc.so")
        #expect(h.waitUntil { h.logLines().contains { $0.contains("plugin upgraded") } })
        _ = try h.configFile(env.yaml(callBudgetMs: 9))
        kill(process.processIdentifier, SIGHUP)
        #expect(h.waitUntil { h.logLines().contains { $0.contains("plugins settings reloaded") && $0.contains("call_budget_ms 50 -") } })
        #expect(h.waitUntil { h.logLines().contains { $0.contains("plugins directory rescanned") && $0.contains("sighup") } })
        #expect(process.isRunning, "SIGHUP does not stop the kernel")
        let list = Process()
        list.executableURL = URL(fileURLWithPath: IngestHarness.kernelBinary)
        list.arguments = ["plugins", "list", "--config", h.dir + "/kernel.yaml"]
        let out = Pipe()
        list.standardOutput = out
        list.standardError = FileHandle.nullDevice
        try list.run()
        list.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("active  lc 2.0.0"), "\(text)")
        #expect(text.contains("retired  lc 1.0.0"), "\(text)")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}

/// One test's kernel with its own plugins directory and the lifecycle beside the daemon.
final class LifecycleEnv: @unchecked Sendable {
    let h: IngestHarness
    let pluginsDir: String
    let buildDir: String
    let callBudgetMs: Int
    var daemon: Daemon?
    var lifecycle: PluginLifecycle?
    private var ownsLifecycle = false
    var router: PluginRouter { daemon!.pipeline!.router }
    /// Every line the kernel logs (message and metadata), for assertions on what it said.
    let logs = CapturedLogs()
    var logger: Logger { logs.logger(label: "lifecycle-test", level: .debug) }

    /// `plugins.isolation` (nil: the default).
    let isolation: String?

    init(callBudgetMs: Int = 50, isolation: String? = nil) throws {
        self.isolation = isolation
        if isolation != nil { PluginHostProcess.executablePath = IngestHarness.kernelBinary }
        h = try IngestHarness()
        pluginsDir = h.dir + "/plugins"
        buildDir = h.dir + "/build"
        self.callBudgetMs = callBudgetMs
        for dir in [pluginsDir, buildDir] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    }

    func yaml(pluginsDir: String? = nil, callBudgetMs: Int? = nil, batchSize: Int = 100, writeConnections: Int = 2) -> String {
        h.yaml(batchSize: batchSize, writeConnections: writeConnections).replacingOccurrences(
            of: "  dir: \"\(IngestHarness.pluginsDir)\"",
            with: "  dir: \"\(pluginsDir ?? self.pluginsDir)\"\n  call_budget_ms: \(callBudgetMs ?? self.callBudgetMs)"
                + (isolation.map { "\n  isolation: \($0)" } ?? ""))
    }

    func start(batchSize: Int = 100, writeConnections: Int = 2) throws {
        let config = try KernelConfig.parse(yaml: yaml(batchSize: batchSize, writeConnections: writeConnections))
        let daemon = Daemon(config: config, logger: logger)
        try daemon.start()
        self.daemon = daemon
        if let running = daemon.pipeline!.router.lifecycle {
            lifecycle = running
            return
        }
        // A daemon that does not start the lifecycle itself: the test does, as the daemon would.
        let lifecycle = PluginLifecycle(router: daemon.pipeline!.router, config: config, logger: logger,
                                        options: { var o = PluginLifecycle.Options(); o.rescanIntervalSeconds = 0.5; return o }())
        lifecycle.start()
        self.lifecycle = lifecycle
        ownsLifecycle = true
    }

    func tearDown() {
        if ownsLifecycle { lifecycle?.stop() }
        daemon?.stop()
        h.tearDown()
    }

    /// Stops the kernel (drains, as on SIGTERM) and starts a new one on the same directory and
    /// database: what a restart sees.
    func restart() throws {
        if ownsLifecycle { lifecycle?.stop() }
        daemon?.stop()
        daemon = nil
        lifecycle = nil
        ownsLifecycle = false
        try start()
    }

    /// Compiles lcplugin.c with the given identity into the build folder (not the plugins dir);
    /// `defines` change its declaration (see the fixture's header comment).
    func build(name: String, version: String, family: String = "lcfam", sleepMs: Int = 0, spinMs: Int = 0, defines: [String] = []) throws -> String {
        let output = buildDir + "/\(name)-\(version)-\(UUID().uuidString.prefix(8)).so"
        let source = IngestHarness.repoRoot + "/Tests/Fixtures/c/lifecycle/lcplugin.c"
        let include = IngestHarness.repoRoot + "/Sources/KernelPluginABI/include"
        try h.run("/usr/bin/cc", ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-shared", "-fPIC", "-I", include,
                                  "-DPLUGIN_NAME=\"\(name)\"", "-DPLUGIN_VERSION=\"\(version)\"", "-DFAMILY_NAME=\"\(family)\"",
                                  "-DSLEEP_MS=\(sleepMs)", "-DSPIN_MS=\(spinMs)"] + defines.map { "-D" + $0 } + ["-o", output, source])
        return output
    }

    /// Installs a plugin the documented way: copy under a hidden temporary name, then rename.
    @discardableResult
    func install(_ built: String, as name: String) throws -> String {
        let temp = pluginsDir + "/.\(name).tmp"
        let target = pluginsDir + "/" + name
        try? FileManager.default.removeItem(atPath: temp)
        try FileManager.default.copyItem(atPath: built, toPath: temp)
        guard rename(temp, target) == 0 else { throw HarnessError(message: "rename \(temp) failed") }
        return target
    }
}

/// Publishes `count` events with `seq` 0..<count at a steady rate on its own Redis connection,
/// from the moment it is made; `wait()` returns once all are sent.
final class Publisher: @unchecked Sendable {
    // @unchecked: `failures` is written by the publishing thread only, and read after `wait()`.
    private let done = DispatchSemaphore(value: 0)
    private(set) var failures = 0

    init(h: IngestHarness, subject: EventUUID, token: String, count: Int, perSecond: Double) {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            guard let redis = try? RedisConnection(endpoint: RedisConnection.Endpoint(address: IngestHarness.redisAddr)!, timeoutMs: 5000) else {
                failures = count
                return
            }
            defer { redis.close() }
            let started = Date()
            for i in 0..<count {
                let due = started.addingTimeInterval(Double(i) / perSecond)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                let payload = IngestHarness.envelope(subject: subject, payload: #"{"seq":\#(i)}"#)
                if (try? redis.command(["XADD", h.streamKey, "*", "payload", payload, "token", token])) == nil { failures += 1 }
            }
        }
    }

    func wait() { done.wait() }
}
