import Foundation
import KernelTestSupport
import Testing

/// An author's first plugin, outside the repository: `kernel plugins new` writes the skeleton into
/// a scratch folder, which is built there against the SDK package (sdk/) alone, and must pass its
/// own test and `kernel plugins check` as written. One build per language: the Swift one compiles
/// the SDK package from scratch (a few minutes on a busy machine). One more Swift build depends on
/// the SDK by URL with a version, as a published copy would be (a local git repository).
@Suite("plugins new, out of tree", .serialized)
struct PluginsNewTests {
    static let sdk = TestPluginBuilder.repoRoot + "/sdk"

    /// A scratch folder outside the repository.
    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "dk-oot-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(!dir.hasPrefix(TestPluginBuilder.repoRoot))
        return dir
    }

    /// The global (or weak) dynamic symbols a shared object defines, which another object could
    /// bind to: the export map leaves only the entry. (gold keeps some symbols the map made local
    /// in .dynsym, bound LOCAL; they are not exported.)
    static func exportedSymbols(_ path: String) throws -> [String] {
        let readelf = try Command.run("readelf", ["--dyn-syms", "-W", path])
        #expect(readelf.status == 0, "\(readelf.output)")
        return readelf.output.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 8, f[4] == "GLOBAL" || f[4] == "WEAK", f[6] != "UND" else { return nil }
            return String(f[7])
        }
    }

    @Test func aCSkeletonBuildsAndPassesItsTestAndPluginsCheck() throws {
        let dir = try Self.scratch() + "/tick"
        let new = try KernelBinary.run(["plugins", "new", "tick", "--lang", "c", "--dir", dir, "--sdk", Self.sdk])
        #expect(new.status == 0, "\(new.output)")
        for file in ["tick.c", "Makefile", "exports.map", "Fixtures/good-example.json", "Fixtures/bad-negative-price.json"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + file), "\(file) written")
        }
        let make = try Command.run("make", ["-C", dir])
        #expect(make.status == 0, "\(make.output)")
        #expect(try Self.exportedSymbols(dir + "/libtick.so") == ["kernel_plugin_entry_v1"])
        let test = try Command.run("make", ["-C", dir, "test"])
        #expect(test.status == 0, "\(test.output)")
        #expect(test.output.contains("normalized the sample into 1 row(s)"), "\(test.output)")
        #expect(test.output.contains("OK   the bad sample was refused with its message"), "\(test.output)")
    }

    @Test func aSwiftSkeletonBuildsAgainstTheSDKPackageAlone() throws {
        let dir = try Self.scratch() + "/tick_feed"
        let new = try KernelBinary.run(["plugins", "new", "tick_feed", "--lang", "swift", "--dir", dir, "--sdk", Self.sdk])
        #expect(new.status == 0, "\(new.output)")
        let manifest = try String(contentsOfFile: dir + "/Package.swift", encoding: .utf8)
        #expect(!manifest.contains("unsafeFlags"), "the author's manifest carries no unsafe flags")

        let build = try Command.run("swift", ["build"], in: dir)
        #expect(build.status == 0, "\(build.output)")
        // Only the SDK's own dependency is resolved, none of the kernel's server packages.
        let resolved = (try? String(contentsOfFile: dir + "/Package.resolved", encoding: .utf8)) ?? ""
        for server in ["hummingbird", "swift-nio", "swift-crypto", "yams", "swift-argument-parser"] {
            #expect(!resolved.lowercased().contains("/\(server)"), "\(server) resolved:\n\(resolved)")
        }
        let library = dir + "/.build/debug/libTickFeedPlugin.so"
        #expect(try Self.exportedSymbols(library) == ["kernel_plugin_entry_v1"], "the SDK package applied the export map")

        let test = try Command.run("swift", ["test"], in: dir)
        #expect(test.status == 0, "\(test.output)")
        #expect(test.output.contains("passesTheConformanceKit") && test.output.contains("passed"), "\(test.output)")

        let check = try KernelBinary.run(["plugins", "check", library, "--sample", dir + "/Fixtures/good-example.json"])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("row 0: symbol=AAPL price=187.25 size=100"), "\(check.output)")
        #expect(check.output.contains("event time: 2026-11-25T14:30:00.123000000Z"), "\(check.output)")
    }

    /// The SDK published on its own (links materialized, `cp -RL`, as docs/plugins.md says) and
    /// depended on by URL with a version requirement: SwiftPM refuses unsafeFlags from such a
    /// dependency, so this build fails if the SDK ever declares one, and the export map must still
    /// reach the plugin (docs/plugins.md, "Out-of-tree plugins").
    @Test func aSwiftSkeletonBuildsAgainstTheSDKByURLWithTheExportMap() throws {
        let scratch = try Self.scratch()
        let repository = scratch + "/data-kernel-sdk"
        let copy = try Command.run("cp", ["-RL", Self.sdk, repository])
        #expect(copy.status == 0, "\(copy.output)")
        let git = ["-C", repository, "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
        for args in [["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "sdk"], ["tag", "1.0.0"]] {
            let step = try Command.run("git", git + args)
            #expect(step.status == 0, "git \(args): \(step.output)")
        }

        let dir = scratch + "/tick_url"
        let new = try KernelBinary.run(["plugins", "new", "tick_url", "--lang", "swift", "--dir", dir, "--sdk", repository])
        #expect(new.status == 0, "\(new.output)")
        let written = try String(contentsOfFile: dir + "/Package.swift", encoding: .utf8)
        let byPath = ".package(path: \"\(repository)\")"
        #expect(written.contains(byPath), "\(written)")
        let manifest = written.replacingOccurrences(of: byPath, with: ".package(url: \"file://\(repository)\", from: \"1.0.0\")")
        try manifest.write(toFile: dir + "/Package.swift", atomically: true, encoding: .utf8)
        #expect(!manifest.contains("unsafeFlags"))

        let build = try Command.run("swift", ["build"], in: dir)
        #expect(build.status == 0, "\(build.output)")
        // Pinned as a git dependency at a version (SwiftPM names a file:// one "localSourceControl"),
        // not as a package by path ("fileSystem"), which is not pinned.
        let resolved = (try? String(contentsOfFile: dir + "/Package.resolved", encoding: .utf8)) ?? ""
        #expect(resolved.contains("\"kind\" : \"localSourceControl\""), "\(resolved)")
        #expect(resolved.contains("\"version\" : \"1.0.0\""), "\(resolved)")

        let library = dir + "/.build/debug/libTickUrlPlugin.so"
        #expect(try Self.exportedSymbols(library) == ["kernel_plugin_entry_v1"], "the SDK package applied the export map")
        let check = try KernelBinary.run(["plugins", "check", library, "--sample", dir + "/Fixtures/good-example.json"])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("row 0: symbol=AAPL price=187.25 size=100"), "\(check.output)")
    }
}
