import Foundation
import KernelEvents
import KernelRedis
import Testing

/// A plugin that kills the kernel on one payload (abort, NULL dereference, stack overflow, an
/// endless loop), with real `kernel run` processes under a supervisor loop that restarts them as
/// systemd's `Restart=on-failure` would. Every good event queued before and after the bad one
/// must be stored exactly once and none dead-lettered; the bad one is dead-lettered as
/// `poison_message` once its plugin calls have crashed the kernel `plugins.crash_strikes` times.
/// The plugin is compiled from Tests/Fixtures/c/crash/crashplugin.c by the test.
@Suite("Plugin crashes", .serialized)
struct PluginCrashTests {
    enum Mode: Int, CustomStringConvertible, CaseIterable {
        case abort = 1, nullDereference = 2, stackOverflow = 3, endlessLoop = 4
        var description: String { ["", "abort", "null", "stack", "loop"][rawValue] }
        /// What the DLQ detail names.
        var cause: String {
            switch self {
            case .abort: return "SIGABRT"
            case .nullDereference, .stackOverflow: return "SIGSEGV"
            case .endlessLoop: return "hang"
            }
        }
    }

    @Test(arguments: Mode.allCases)
    func onlyTheCulpritIsDeadLetteredAndEveryGoodEventIsStoredOnce(mode: Mode) throws {
        let env = try CrashEnv(mode: mode)
        defer { env.tearDown() }
        try env.publish(good: 1000, bad: 1, goodAfter: 1000)
        let supervisor = Supervisor(env: env, names: ["k1"])
        defer { supervisor.stopAll() }
        let settled = supervisor.run(timeout: 120) { try env.settled(good: 2000) }
        try env.expectOutcome(settled: settled, good: 2000, mode: mode, crashes: supervisor.crashes)
        #expect(supervisor.crashes <= 2, "dead-lettered within plugins.crash_strikes (2) crashes, not \(supervisor.crashes)")
    }

    /// A `normalize_batch` plugin: a crash names only the batch, so its entries are retried one
    /// call each; the culprit then needs `crash_strikes` more crashes.
    @Test func aBatchCallCrashMakesSuspectsAndOnlyTheCulpritIsDeadLettered() throws {
        let env = try CrashEnv(mode: .abort, withBatch: true)
        defer { env.tearDown() }
        try env.publish(good: 1000, bad: 1, goodAfter: 1000)
        let supervisor = Supervisor(env: env, names: ["k1"])
        defer { supervisor.stopAll() }
        let settled = supervisor.run(timeout: 120) { try env.settled(good: 2000) }
        try env.expectOutcome(settled: settled, good: 2000, mode: .abort, crashes: supervisor.crashes)
        #expect(supervisor.crashes <= 3, "one crash in the batch call, then crash_strikes (2) alone; got \(supervisor.crashes)")
    }

    /// Two kernels in one group, each under its own supervisor, claiming each other's entries.
    @Test func twoKernelsInOneGroupDeadLetterOnlyTheCulprit() throws {
        let env = try CrashEnv(mode: .nullDereference, claimIdleMs: 1500)
        defer { env.tearDown() }
        try env.publish(good: 1000, bad: 1, goodAfter: 1000)
        let supervisor = Supervisor(env: env, names: ["k1", "k2"])
        defer { supervisor.stopAll() }
        let settled = supervisor.run(timeout: 150) { try env.settled(good: 2000) }
        try env.expectOutcome(settled: settled, good: 2000, mode: .nullDereference, crashes: supervisor.crashes)
        #expect(supervisor.crashes <= 2, "crashes across both kernels: \(supervisor.crashes)")
    }
}

/// One crash test's world: a harness, the crash plugin in a private plugins directory, a bound
/// producer, and the config of each kernel.
final class CrashEnv: @unchecked Sendable {
    // @unchecked: used from the test's thread only.
    let h: IngestHarness
    let fleet: KernelFleet
    let pluginsDir: String
    let subject: EventUUID
    let token: String
    let claimIdleMs: Int
    let mode: PluginCrashTests.Mode
    /// DK_CRASH_TEST_OLD_CONFIG=1 leaves out the config keys this work added, to run the tests
    /// against a kernel built before it (showing the failure they reproduce).
    static let oldConfig = ProcessInfo.processInfo.environment["DK_CRASH_TEST_OLD_CONFIG"] == "1"

    /// `plugins.isolation` of the kernels (nil: the default).
    let isolation: String?

    init(mode: PluginCrashTests.Mode, withBatch: Bool = false, claimIdleMs: Int = 60000, isolation: String? = nil) throws {
        self.isolation = isolation
        h = try IngestHarness()
        fleet = KernelFleet(h)
        self.mode = mode
        self.claimIdleMs = claimIdleMs
        pluginsDir = h.dir + "/plugins"
        try FileManager.default.createDirectory(atPath: pluginsDir, withIntermediateDirectories: true)
        let include = IngestHarness.repoRoot + "/Sources/KernelPluginABI/include"
        try h.run("/usr/bin/cc", ["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-shared", "-fPIC", "-O1", "-I", include,
                                  "-DCRASH_MODE=\(mode.rawValue)", "-DWITH_BATCH=\(withBatch ? 1 : 0)",
                                  "-o", pluginsDir + "/libcrash.so",
                                  IngestHarness.repoRoot + "/Tests/Fixtures/c/crash/crashplugin.c"])
        let (_, subject, _, token) = try h.boundProducer(family: "crashfam")
        self.subject = subject
        self.token = token
        try fleet.createGroup()
    }

    func tearDown() { h.tearDown() }

    /// Queues `good` events, then `bad` crashing ones, then `goodAfter` more (seq numbers run on).
    func publish(good: Int, bad: Int, goodAfter: Int) throws {
        var seq = 0
        for _ in 0..<good { try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":\#(seq)}"#), token: token); seq += 1 }
        for _ in 0..<bad {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":\#(seq),"crash":true}"#), token: token, id: "bad-\(seq)")
            seq += 1
        }
        for _ in 0..<goodAfter { try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"seq":\#(seq)}"#), token: token); seq += 1 }
    }

    /// Writes kernel `name`'s config and returns its path.
    func configPath(_ name: String) throws -> String {
        var text = try fleet.yaml(name, claimIdleMs: claimIdleMs, batchSize: 100, maxDeliveries: 3)
        var extra = Self.oldConfig ? "" : "\n  crash_strikes: 2\n  hang_timeout_ms: 1500"
        if let isolation { extra += "\n  isolation: \(isolation)" }
        text = text.replacingOccurrences(of: "dir: \"\(IngestHarness.pluginsDir)\"", with: "dir: \"\(pluginsDir)\"" + extra)
        let path = h.dir + "/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every good event stored, the bad one dead-lettered, nothing pending.
    func settled(good: Int) throws -> Bool {
        try h.count("SELECT count(*) FROM md_crashfam") >= good && !h.deadLetters().isEmpty && h.pendingCount() == 0
    }

    func expectOutcome(settled: Bool, good: Int, mode: PluginCrashTests.Mode, crashes: Int) throws {
        #expect(settled, "rows \(String(describing: try? h.count("SELECT count(*) FROM md_crashfam"))), dlq \(String(describing: try? h.deadLetters().count)), pending \(String(describing: try? h.pendingCount())), crashes \(crashes)")
        try expectEveryGoodEventOnceAndOnlyTheCulpritDeadLettered(good: good, mode: mode)
        #expect(try h.count("SELECT count(*) FROM events") == 0)
        #expect(crashes >= 1, "the plugin did crash the kernel")
    }

    /// The `good` events of the crash family stored once each, the bad one (seq `good / 2`)
    /// nowhere and it alone dead-lettered, as a poison message naming the plugin, its version and
    /// `mode`'s cause.
    func expectEveryGoodEventOnceAndOnlyTheCulpritDeadLettered(good: Int, mode: PluginCrashTests.Mode) throws {
        #expect(try h.count("SELECT count(*) FROM md_crashfam") == good, "every good event stored once")
        #expect(try h.count("SELECT count(DISTINCT seq) FROM md_crashfam") == good)
        #expect(try h.count("SELECT count(*) FROM md_crashfam WHERE seq = \(good / 2)") == 0, "the bad event stored nowhere")
        let letters = try h.deadLetters()
        #expect(letters.count == 1, "only the culprit dead-lettered: \(letters.map { "\($0.id) \($0.reason)" }.prefix(5))")
        if let letter = letters.first {
            #expect(letter.id == "bad-\(good / 2)")
            #expect(letter.reason == "poison_message")
            #expect(letter.detail.contains("crash 1.0.0"), "names the plugin and version: \(letter.detail)")
            #expect(letter.detail.contains(mode.cause), "names the cause \(mode.cause): \(letter.detail)")
        }
    }
}

/// Restarts `kernel run` processes whenever they exit, like a service manager, and counts the
/// crashes (exits that were not asked for).
final class Supervisor: @unchecked Sendable {
    // @unchecked: used from the test's thread only.
    let env: CrashEnv
    let names: [String]
    private(set) var crashes = 0
    private var processes: [String: Process] = [:]

    init(env: CrashEnv, names: [String]) {
        self.env = env
        self.names = names
    }

    /// Runs until `done` holds (true) or `timeout` passes (false), restarting exited kernels
    /// after a short pause (at most 8 restarts, so a crash loop cannot run forever).
    func run(timeout: Double, until done: () throws -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var restarts = 0
        while Date() < deadline {
            for name in names {
                if let p = processes[name], p.isRunning { continue }
                if processes[name] != nil { crashes += 1 }
                guard restarts < 8 + names.count else { return false }
                restarts += 1
                if processes[name] != nil { Thread.sleep(forTimeInterval: 0.2) }
                guard let started = try? start(name) else { return false }
                processes[name] = started
            }
            if (try? done()) == true { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    private func start(_ name: String) throws -> Process {
        try IngestHarness.startKernel(configPath: try env.configPath(name), stderrPath: env.h.dir + "/\(name).stderr", appending: true)
    }

    func stopAll() {
        for (_, p) in processes where p.isRunning {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        processes = [:]
    }
}
