import Foundation
@testable import KernelPlugins
import KernelPluginABI
import KernelPluginSDK
import Testing

/// The limits table of kernel_plugin.h is the one source: the header's comments, the loader, the
/// host's output checks, the SDK's `problems` and `DecimalText`, and docs/plugins.md must all
/// state the same numbers. Each test fails when one of them drifts.
@Suite("Limits table")
struct LimitsTableTests {
    static let root = TestPluginBuilder.repoRoot
    static func text(_ relative: String) throws -> String { try String(contentsOfFile: root + "/" + relative, encoding: .utf8) }

    /// `#define KP_…_MAX N` lines of the header, read as text (what a C author reads).
    static func headerLimits() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for line in try text("Sources/KernelPluginABI/include/kernel_plugin.h").split(separator: "\n") where line.hasPrefix("#define KP_") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if words.count >= 3, words[1].hasSuffix("_MAX") || words[1].hasSuffix("_MIN"), let n = Int(words[2]) { out[String(words[1])] = n }
        }
        return out
    }

    @Test func theDocsTableStatesEveryHeaderLimit() throws {
        let limits = try Self.headerLimits()
        #expect(limits.count >= 16, "\(limits)")
        let docs = try Self.text("docs/plugins.md")
        let table = docs[docs.range(of: "## Host limits")!.lowerBound...]
        for (name, value) in limits {
            let row = table.split(separator: "\n").first { $0.contains("`\(name)`") }
            #expect(row != nil, "docs/plugins.md Host limits has no row for \(name)")
            if let row { #expect(row.contains("\(value)"), "docs row for \(name) lacks \(value): \(row)") }
        }
    }

    @Test func everyIdentifierGrammarWrittenAnywhereUsesTheTablesLengths() throws {
        let allowed: Set<String> = [
            "[a-z][a-z0-9_]{0,\(KP_FAMILY_NAME_MAX - 1)}", "[a-z][a-z0-9_]{0,\(KP_COLUMN_NAME_MAX - 1)}",
            "[a-z][a-z0-9_.-]{0,\(KP_PLUGIN_NAME_MAX - 1)}",
        ]
        let files = ["Sources/KernelPluginABI/include/kernel_plugin.h", "docs/plugins.md"]
            + (try swiftFiles("Sources/KernelPluginSDK")) + (try swiftFiles("Sources/KernelPlugins"))
        let pattern = try NSRegularExpression(pattern: #"\[a-z\]\[a-z0-9_[.-]*\]\{0,[0-9]+\}"#)
        var seen = 0
        for file in files {
            let text = try Self.text(file)
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let found = String(text[Range(m.range, in: text)!])
                seen += 1
                #expect(allowed.contains(found), "\(file) states \(found)")
            }
        }
        #expect(seen >= 6)
    }

    func swiftFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: Self.root + "/" + dir).filter { $0.hasSuffix(".swift") }.map { dir + "/" + $0 }
    }

    static func info(family: String = "tick", column: String = "price") -> PluginInfo {
        PluginInfo(name: "tick", version: "1.0.0", families: [
            FamilySpec(name: family, versions: 1...1, columns: [Column(column, .numeric, description: "p")]),
        ])
    }

    @Test func theSDKAndTheLoaderAcceptAndRefuseTheSameNames() throws {
        let dir = try TestPluginBuilder.makeTempDir()
        for (length, accepted) in [(Int(KP_COLUMN_NAME_MAX), true), (Int(KP_COLUMN_NAME_MAX) + 1, false), (57, false)] {
            let name = "c" + String(repeating: "x", count: length - 1)
            #expect(Self.info(column: name).problems.isEmpty == accepted, "SDK, column of \(length)")
            let file = try TestPluginBuilder.build("libc\(length).so", in: dir, defines: ["COLUMN_NAME=\"\(name)\""])
            #expect(((try? PluginLoader.load(path: file)) != nil) == accepted, "loader, column of \(length)")
        }
        for (length, accepted) in [(Int(KP_FAMILY_NAME_MAX), true), (Int(KP_FAMILY_NAME_MAX) + 1, false)] {
            let name = "f" + String(repeating: "x", count: length - 1)
            #expect(Self.info(family: name).problems.isEmpty == accepted, "SDK, family of \(length)")
            let file = try TestPluginBuilder.build("libf\(length).so", in: dir, defines: ["FAMILY_NAME=\"\(name)\""])
            #expect(((try? PluginLoader.load(path: file)) != nil) == accepted, "loader, family of \(length)")
        }
    }

    @Test(arguments: [
        ("1e1000", true), ("1E+1000", true), ("-1e-1000", true), ("1e0001000", true), ("1e1001", false), ("1e-1001", false),
        ("1e+5", true), ("+1", false), (".5", false), ("5.", false), ("NaN", false), ("-", false), ("1e", false),
        ("187.25", true), ("007.5", true), ("1e-5", true),
    ])
    func theSDKAndTheHostAgreeOnNumericText(text: String, accepted: Bool) {
        #expect(OutputCollector.isDecimal(text) == accepted, "host")
        #expect((DecimalText(text) != nil) == accepted, "SDK")
    }

    @Test func theSDKAndTheHostAgreeOnNumericLength() {
        let longest = String(repeating: "1", count: Int(KP_NUMERIC_TEXT_MAX))
        #expect(OutputCollector.isDecimal(longest) && DecimalText(longest) != nil)
        #expect(!OutputCollector.isDecimal(longest + "1") && DecimalText(longest + "1") == nil)
    }

    @Test func anyInt64IsATimestampTheHostStores() {
        for ns in [Int64.min, -1, 0, Int64.max] {
            #expect(OutputCollector.check(.timestampNanos(ns), type: .timestamptz, allowed: nil) == nil)
        }
    }
}
