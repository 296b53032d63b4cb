import Foundation
import KernelPlugins
import Logging
import Testing

/// The loader against real shared objects built during the test run, each breaking one rule.
@Suite("Plugin loader")
struct PluginLoaderTests {
    func refusal(_ defines: [String], file: String = "bad.so") throws -> PluginLoadError {
        let dir = try TestPluginBuilder.makeTempDir()
        let path = try TestPluginBuilder.build(file, in: dir, defines: defines)
        let loaded: LoadedPlugin
        do {
            loaded = try PluginLoader.load(path: path)
        } catch {
            #expect(error.path == path)
            #expect(error.description.contains(path), "the message names the file")
            return error
        }
        Issue.record("expected a refusal for \(defines), loaded \(loaded.descriptor.name)")
        throw CancellationError()
    }

    @Test func loadsAValidPluginAndReadsItsDescriptor() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let path = try TestPluginBuilder.build("libtick.so", in: dir)
        let plugin = try PluginLoader.load(path: path)
        let d = plugin.descriptor
        #expect(d.name == "tick")
        #expect(d.version == SemanticVersion("1.0.0"))
        #expect(d.abiMajor == 1)
        #expect(d.buildInfo == "cc test")
        #expect(d.families.count == 1)
        let f = d.families[0]
        #expect(f.name == "tick")
        #expect(f.versions == 1...2)
        #expect(f.maxRowsPerEvent == 2)
        #expect(f.columns.map(\.name) == ["price", "side", "note", "qty"])
        #expect(f.columns.map(\.type) == [.numeric, .text, .text, .int4])
        #expect(f.columns.map(\.nullable) == [false, false, true, true])
        #expect(f.columns[1].allowedValues == ["buy", "sell"])
        #expect(f.columns[0].description == "trade price")
        #expect(f.payloadSchemaJSON?.contains("required") == true)
    }

    /// A wrong ABI major, a newer ABI minor, no entry symbol, a null descriptor, a null function
    /// pointer, an undersized descriptor: refused for that reason, the detail naming what broke.
    @Test(arguments: [
        (["ABI_MAJOR=2"], .abiMajorMismatch, "2"),
        (["ABI_MINOR=7"], .abiMinorTooNew, nil),
        (["NO_ENTRY"], .missingEntrySymbol, "kernel_plugin_entry_v1"),
        (["NULL_DESCRIPTOR"], .nullDescriptor, nil),
        (["NULL_NORMALIZE"], .nullFunction, "normalize"),
        (["DESCRIPTOR_SIZE=12"], .structTooSmall, nil),
    ] as [([String], PluginLoadError.Reason, String?)])
    func brokenEntryOrDescriptorIsRefused(defines: [String], reason: PluginLoadError.Reason, detail: String?) throws {
        let e = try refusal(defines)
        #expect(e.reason == reason)
        if let detail { #expect(e.detail.contains(detail)) }
    }

    @Test func badNamesAreRefused() throws {
        #expect(try refusal(["FAMILY_NAME=\"Trade-1\""]).reason == .invalidFamily)
        #expect(try refusal(["PLUGIN_NAME=\"\""]).reason == .invalidName)
        #expect(try refusal(["PLUGIN_VERSION=\"v1\""]).reason == .invalidVersion)
        #expect(try refusal(["COLUMN_NAME=\"Price\""]).reason == .invalidColumn)
        let reserved = try refusal(["COLUMN_NAME=\"event_id\""])
        #expect(reserved.reason == .invalidColumn)
        #expect(reserved.detail.contains("reserved"))
        #expect(try refusal(["ENUM_ON_NUMERIC"]).reason == .invalidColumn)
        #expect(try refusal(["FAMILY_MIN=0"]).reason == .invalidFamily)
        #expect(try refusal(["FAMILY_MIN=3", "FAMILY_MAX=2"]).reason == .invalidFamily)
        #expect(try refusal(["SCHEMA_JSON=\"{not json\""]).reason == .invalidSchema)
    }

    @Test func duplicateFamilyInsideOnePluginIsRefused() throws {
        let e = try refusal(["FAMILY_COUNT=2", "SECOND_FAMILY_NAME=\"tick\""])
        #expect(e.reason == .duplicateFamily)
    }

    @Test func garbageBytesAreNotASharedObject() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let path = dir + "/garbage.so"
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        #expect(throws: PluginLoadError.self) { try PluginLoader.load(path: path) }
        do { _ = try PluginLoader.load(path: path) } catch {
            #expect(error.reason == .notSharedObject)
        }
        let empty = dir + "/empty.so"
        FileManager.default.createFile(atPath: empty, contents: Data())
        do { _ = try PluginLoader.load(path: empty); Issue.record("empty file loaded") } catch {
            #expect(error.reason == .notSharedObject)
        }
    }

    @Test func truncatedSharedObjectIsRefused() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let good = try TestPluginBuilder.build("good.so", in: dir)
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        for fraction in [0.5, 0.1, 0.02] {
            let path = dir + "/truncated-\(fraction).so"
            FileManager.default.createFile(atPath: path, contents: data.prefix(Int(Double(data.count) * fraction)))
            do { _ = try PluginLoader.load(path: path); Issue.record("truncated file loaded") } catch {
                #expect([.dlopenFailed, .notSharedObject].contains(error.reason), "\(error)")
                #expect(error.description.contains(path))
            }
        }
    }

    @Test func anExecutableOrDirectoryIsNotAPlugin() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        try FileManager.default.createDirectory(atPath: dir + "/dir.so", withIntermediateDirectories: true)
        do { _ = try PluginLoader.load(path: dir + "/dir.so"); Issue.record("directory loaded") } catch {
            #expect(error.reason == .notRegularFile)
        }
        do { _ = try PluginLoader.load(path: "/bin/sh"); Issue.record("/bin/sh loaded") } catch {
            #expect([.notSharedObject, .dlopenFailed, .missingEntrySymbol].contains(error.reason))
        }
        do { _ = try PluginLoader.load(path: dir + "/missing.so"); Issue.record("missing file loaded") } catch {
            #expect(error.reason == .notFound)
        }
    }

    @Test func initFailureIsRefusedWithThePluginsMessage() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let plugin = try PluginLoader.load(path: try TestPluginBuilder.build("libtick.so", in: dir))
        do {
            _ = try plugin.instantiate(configJSON: #"{"fail_init":true}"#, logger: Logger(label: "t"))
            Issue.record("init should fail")
        } catch {
            #expect(error.reason == .initFailed)
            #expect(error.detail.contains("config says fail_init"))
        }
    }
}

@Suite("Plugin registry")
struct PluginRegistryTests {
    @Test func directoryLoadKeepsGoodPluginsAndRefusesBadOnesByName() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        try TestPluginBuilder.build("a-good.so", in: dir)
        try TestPluginBuilder.build("b-duplicate.so", in: dir, defines: ["PLUGIN_NAME=\"tick2\""])
        try TestPluginBuilder.build("c-other.so", in: dir, defines: ["PLUGIN_NAME=\"other\"", "FAMILY_NAME=\"other\""])
        try TestPluginBuilder.build("d-abi.so", in: dir, defines: ["ABI_MAJOR=9", "PLUGIN_NAME=\"abi\"", "FAMILY_NAME=\"abi\""])
        FileManager.default.createFile(atPath: dir + "/e-garbage.so", contents: Data("hello".utf8))
        FileManager.default.createFile(atPath: dir + "/.hidden.so", contents: Data("partial".utf8))
        FileManager.default.createFile(atPath: dir + "/notes.txt", contents: Data("x".utf8))

        let registry = PluginRegistry.load(directory: dir, logger: Logger(label: "t"))
        #expect(registry.entries.map(\.descriptor.name) == ["tick", "other"])
        let refused = Dictionary(uniqueKeysWithValues: registry.refused.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0) })
        #expect(Set(refused.keys) == ["b-duplicate.so", "d-abi.so", "e-garbage.so"])
        #expect(refused["b-duplicate.so"]?.reason == .duplicateFamily)
        #expect(refused["b-duplicate.so"]?.detail.contains("a-good.so") == true, "names both files")
        #expect(refused["d-abi.so"]?.reason == .abiMajorMismatch)
        #expect(refused["e-garbage.so"]?.reason == .notSharedObject)

        #expect(registry.route(family: "tick", version: 1)?.instance.descriptor.name == "tick")
        #expect(registry.route(family: "tick", version: 2) != nil)
        #expect(registry.route(family: "tick", version: 3) == nil, "version outside the served range")
        #expect(registry.route(family: "other", version: 1)?.instance.descriptor.name == "other")
        #expect(registry.route(family: "unknown", version: 1) == nil, "no plugin: generic storage")
    }

    @Test func missingDirectoryIsAnEmptyRegistry() {
        let registry = PluginRegistry.load(directory: "/nonexistent/plugins", logger: Logger(label: "t"))
        #expect(registry.entries.isEmpty)
        #expect(registry.refused.isEmpty)
    }
}
