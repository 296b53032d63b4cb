import Foundation
import KernelPluginTesting
import KernelPlugins
import Logging
import Testing

/// The example plugins, as built .so files, through the conformance kit and the loader.
/// `make test` builds them into DK_TEST_PLUGINS_DIR first.
@Suite("Example plugins")
struct ExamplePluginsTests {
    static let pluginsDir = ProcessInfo.processInfo.environment["DK_TEST_PLUGINS_DIR"]
        ?? TestPluginBuilder.repoRoot + "/.build/test-plugins"
    static let fixtures = TestPluginBuilder.repoRoot + "/Tests/Fixtures/plugins"

    static func path(_ file: String) throws -> String {
        let p = pluginsDir + "/" + file
        guard FileManager.default.fileExists(atPath: p) else {
            throw MissingPlugin(path: p)
        }
        return p
    }

    struct MissingPlugin: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) not built: run `make plugins PLUGIN_DIR=.build/test-plugins PLUGIN_CONFIG=debug` (make test does)" }
    }

    @Test(arguments: ["libTradePlugin.so", "libBookPlugin.so", "libBarPlugin.so", "libquote.so"])
    func conformance(file: String) throws {
        let report = PluginConformance.run(plugin: try Self.path(file), fixtures: Self.fixtures)
        #expect(report.failures.isEmpty, "\(report)")
        #expect(report.checks.count > 3, "fixtures were found and run:\n\(report)")
    }

    @Test func allExamplePluginsLoadTogether() throws {
        _ = try Self.path("libTradePlugin.so")
        let registry = PluginRegistry.load(directory: Self.pluginsDir, logger: Logger(label: "t"))
        #expect(registry.refused.isEmpty, "\(registry.refused)")
        let families = Set(registry.servedFamilies.map(\.family.name))
        #expect(families.isSuperset(of: ["trade", "quote", "book", "bar"]))
        for served in registry.servedFamilies {
            #expect(served.family.isTyped)
            let prices = served.family.columns.filter { ["price", "bid_price", "ask_price", "open", "close"].contains($0.name) }
            #expect(prices.allSatisfy { $0.type == .numeric }, "prices are numeric, never float")
        }
    }
}
