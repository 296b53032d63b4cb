import Foundation
import KernelPlugins
import Logging
import Testing

/// Loading while the kernel runs: private snapshots (a new version renamed over a loaded file),
/// refused partial files, the highest version winning at start-up, and call timing.
@Suite("Plugin snapshots and upgrades")
struct PluginSnapshotTests {
    /// Builds Tests/Fixtures/c/lifecycle/lcplugin.c with the given identity.
    static func buildLifecyclePlugin(_ output: String, name: String = "lc", version: String, sleepMs: Int = 0,
                                     spinMs: Int = 0) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-shared", "-fPIC", "-I", TestPluginBuilder.include,
                             "-DPLUGIN_NAME=\"\(name)\"", "-DPLUGIN_VERSION=\"\(version)\"", "-DSLEEP_MS=\(sleepMs)", "-DSPIN_MS=\(spinMs)",
                             "-o", output, TestPluginBuilder.repoRoot + "/Tests/Fixtures/c/lifecycle/lcplugin.c"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestPluginBuilder.BuildFailure(message: "lcplugin.c") }
        return output
    }

    @Test func snapshotOfAFileRenamedOverALoadedOneGetsTheNewCode() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let path = try Self.buildLifecyclePlugin(dir + "/liblc.so", version: "1.0.0")
        #expect(try PluginLoader.load(path: path).descriptor.version.description == "1.0.0")
        let staged = try Self.buildLifecyclePlugin(dir + "/.liblc.so.tmp", version: "2.0.0")
        #expect(rename(staged, path) == 0)
        // dlopen by the same name hands back the object already mapped: why snapshots exist.
        #expect(try PluginLoader.load(path: path).descriptor.version.description == "1.0.0")
        let (plugin, identity) = try PluginLoader.loadSnapshot(path: path)
        #expect(plugin.descriptor.version.description == "2.0.0")
        #expect(plugin.path == path, "reported under the original name")
        #expect(identity == PluginFileIdentity.of(path: path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("snapshot") }
        #expect(leftovers.isEmpty, "the snapshot file is unlinked once mapped")
        let instance = try plugin.instantiate(logger: Logger(label: "t"))
        let out = instance.normalize(EventInput(family: "lcfam", schemaVersion: 1, eventID: "e", subjectID: "s", tsUnixNanos: 0,
                                                payload: Array(#"{"seq":5}"#.utf8)))
        #expect(try out.get().rows.first?.last?.textValue == "2.0.0")
    }

    @Test func snapshotRefusesPartialAndGarbageFilesByTheirName() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let full = try Data(contentsOf: URL(fileURLWithPath: try Self.buildLifecyclePlugin(dir + "/full.bin", version: "1.0.0")))
        for (name, bytes) in [("half.so", full.prefix(full.count / 2)), ("header.so", full.prefix(64)),
                              ("empty.so", Data()), ("text.so", Data("not a plugin".utf8)),
                              ("almost.so", full.prefix(full.count - 1))] {
            let path = dir + "/" + name
            try bytes.write(to: URL(fileURLWithPath: path))
            #expect(throws: PluginLoadError.self, "\(name)") { _ = try PluginLoader.loadSnapshot(path: path) }
            do { _ = try PluginLoader.loadSnapshot(path: path) } catch {
                #expect(error.path == path)
                #expect(error.reason == .notSharedObject, "\(name): \(error)")
            }
        }
        #expect(throws: PluginLoadError.self) { _ = try PluginLoader.loadSnapshot(path: dir + "/missing.so") }
        #expect(throws: PluginLoadError.self) { _ = try PluginLoader.loadSnapshot(path: dir) }
    }

    @Test func directoryLoadKeepsTheHighestVersionAndReportsTheOthersSuperseded() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        try Self.buildLifecyclePlugin(dir + "/a-lc.so", version: "1.2.0")
        try Self.buildLifecyclePlugin(dir + "/b-lc.so", version: "1.10.0")
        try Self.buildLifecyclePlugin(dir + "/c-lc.so", version: "1.10.0-rc1")
        let registry = PluginRegistry.load(directory: dir, logger: Logger(label: "t"))
        #expect(registry.entries.map { "\($0.descriptor.version)" } == ["1.10.0"])
        #expect(registry.refused.isEmpty)
        #expect(registry.superseded.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["a-lc.so", "c-lc.so"])
        #expect(registry.superseded.allSatisfy { $0.by == dir + "/b-lc.so" })
        #expect(registry.route(family: "lcfam", version: 1)?.instance.descriptor.version.description == "1.10.0")
    }

    /// A refused highest version (here by `prepare`, where the kernel makes family tables)
    /// leaves the next lower version serving, as a refused upgrade does in a running kernel.
    @Test func directoryLoadFallsBackToTheNextVersionWhenTheHighestIsRefused() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        _ = try Self.buildLifecyclePlugin(dir + "/a-lc.so", version: "1.0.0")
        _ = try Self.buildLifecyclePlugin(dir + "/b-lc.so", version: "2.0.0")
        _ = try Self.buildLifecyclePlugin(dir + "/c-lc.so", version: "3.0.0")
        var prepared: [String] = []
        let registry = PluginRegistry.load(directory: dir, logger: Logger(label: "t"), prepare: { plugin throws(PluginLoadError) in
            prepared.append(plugin.descriptor.version.description)
            if plugin.descriptor.version.description == "3.0.0" {
                throw PluginLoadError(path: plugin.path, reason: .familyTableRefused, detail: "family lcfam column seq: refused")
            }
        })
        #expect(prepared == ["3.0.0", "2.0.0"])
        #expect(registry.entries.map { "\($0.descriptor.version)" } == ["2.0.0"])
        #expect(registry.refused.map { "\(URL(fileURLWithPath: $0.path).lastPathComponent) \($0.reasonCode)" } == ["c-lc.so family_table_refused"])
        #expect(registry.superseded.map { "\(URL(fileURLWithPath: $0.path).lastPathComponent) by \(URL(fileURLWithPath: $0.by).lastPathComponent)" }
                == ["a-lc.so by b-lc.so"])
        #expect(registry.route(family: "lcfam", version: 1)?.instance.descriptor.version.description == "2.0.0")
    }

    /// Budgets are the calling thread's CPU time: a call burning 30 ms of CPU is over a 10 ms
    /// budget; a call that sleeps 30 ms (off the CPU, as a descheduled thread is) is not.
    @Test func callTimingCountsCallsOverTheBudgetInCPUTime() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let sleeper = try PluginLoader.load(path: try Self.buildLifecyclePlugin(dir + "/sleepy.so", name: "sleepy", version: "1.0.0", sleepMs: 30))
        let sleeping = try sleeper.instantiate(logger: Logger(label: "t"))
        let inputs = (0..<3).map {
            EventInput(family: "lcfam", schemaVersion: 1, eventID: "e\($0)", subjectID: "s", tsUnixNanos: 0, payload: Array(#"{"seq":1}"#.utf8))
        }
        let slept = sleeping.normalizeBatch(inputs, budgetNanos: 10_000_000)
        #expect(slept.timing.slowCalls == 0, "90 ms on the wall clock, almost no CPU: \(slept.timing)")
        #expect(slept.timing.totalNanos < 30_000_000)
        let plugin = try PluginLoader.load(path: try Self.buildLifecyclePlugin(dir + "/slow.so", version: "1.0.0", spinMs: 30))
        let instance = try plugin.instantiate(logger: Logger(label: "t"))
        let events = (0..<3).map {
            EventInput(family: "lcfam", schemaVersion: 1, eventID: "e\($0)", subjectID: "s", tsUnixNanos: 0, payload: Array(#"{"seq":1}"#.utf8))
        }
        let tight = instance.normalizeBatch(events, budgetNanos: 10_000_000)
        #expect(tight.results.count == 3)
        #expect(tight.timing.slowCalls == 3)
        // The plugin spins until its own CPU clock says 30 ms; ours reads the same clock around
        // the call, so a little more (a margin for clock granularity).
        #expect(tight.timing.slowestNanos >= 29_000_000)
        #expect(tight.timing.totalNanos >= 87_000_000)
        let loose = instance.normalizeBatch(events, budgetNanos: 5_000_000_000)
        #expect(loose.timing.slowCalls == 0)
        #expect(instance.normalizeBatch([], budgetNanos: 1).timing == CallTiming())
    }

    @Test func admissibilityIsCheckedWithoutInstantiating() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let v1 = try PluginLoader.load(path: try Self.buildLifecyclePlugin(dir + "/v1.so", version: "1.0.0"))
        let other = try PluginLoader.load(path: try Self.buildLifecyclePlugin(dir + "/o.so", name: "lc_other", version: "1.0.0"))
        let registry = PluginRegistry(instances: [try v1.instantiate(logger: Logger(label: "t"))])
        #expect(throws: PluginLoadError.self) { try registry.checkAdmissible(v1) }
        do { try registry.checkAdmissible(other) } catch {
            #expect(error.reason == .duplicateFamily, "another plugin name serving the same family+version")
        }
        try PluginRegistry().checkAdmissible(other)
    }
}
