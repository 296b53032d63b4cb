import KernelPluginSDK
import KernelPlugins
import Testing

/// A Swift plugin built by another toolchain is refused with both toolchains named; the kernel
/// states its own.
@Suite("Toolchain")
struct ToolchainTests {
    @Test func theHostAndTheSDKNameTheSameToolchain() {
        #expect(HostToolchain.swift == BuildInfo.toolchain)
        #expect(HostToolchain.swift.hasPrefix("swift-6."))
    }

    @Test func aSwiftPluginOfAnotherToolchainIsRefusedNamingBoth() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let path = try TestPluginBuilder.build("libold.so", in: dir, defines: [#"BUILD_INFO="swift-6.2""#])
        do {
            _ = try PluginLoader.load(path: path)
            Issue.record("a swift-6.2 plugin loaded into a \(HostToolchain.swift) kernel")
        } catch {
            #expect(error.reason == .toolchainMismatch)
            #expect(error.detail.contains("swift-6.2") && error.detail.contains(HostToolchain.swift), "\(error)")
        }
    }

    @Test func theSameToolchainAndCPluginsLoad() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let same = try TestPluginBuilder.build("libsame.so", in: dir, defines: ["BUILD_INFO=\"\(HostToolchain.swift)\""])
        #expect(try PluginLoader.load(path: same).descriptor.buildInfo == HostToolchain.swift)
        let c = try TestPluginBuilder.build("libc.so", in: dir, defines: [#"BUILD_INFO="cc 12.2, swift-6.2 nowhere""#])
        #expect(try PluginLoader.load(path: c).descriptor.name == "tick")
    }

    @Test func pluginsCheckRefusesAMismatchAndTheKernelPrintsItsToolchain() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        let path = try TestPluginBuilder.build("libold.so", in: dir, defines: [#"BUILD_INFO="swift-6.2""#])
        let check = try KernelBinary.run(["plugins", "check", path])
        #expect(check.status == 1)
        #expect(check.output.contains("toolchain_mismatch") && check.output.contains("swift-6.2")
            && check.output.contains(HostToolchain.swift), "\(check.output)")
        let version = try KernelBinary.run(["--version"])
        #expect(version.status == 0)
        #expect(version.output.contains(HostToolchain.swift), "\(version.output)")
    }
}
