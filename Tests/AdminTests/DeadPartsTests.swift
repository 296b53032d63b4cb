import Foundation
import KernelTestSupport
import Testing

/// Nothing dead: every metric handle `KernelMetrics` registers is updated somewhere in the code,
/// and every config key is read outside the config module. Read from the sources, so a new
/// metric or key that nothing uses fails CI (metrics and keys were registered, documented and
/// dashboarded but never updated or read).
@Suite("Dead metrics and config keys")
struct DeadPartsTests {
    static let root = Repository.root.path

    /// Every `.swift` file under Sources, outside `excluding`, as text.
    static func sources(excluding module: String) throws -> String {
        let base = root + "/Sources"
        var text = ""
        for path in FileManager.default.enumerator(atPath: base)!.compactMap({ $0 as? String })
        where path.hasSuffix(".swift") && !path.hasPrefix(module + "/") && path != module {
            text += try String(contentsOfFile: base + "/" + path, encoding: .utf8) + "\n"
        }
        return text
    }

    /// Still registered but not updated, each with why (to be resolved, not to grow).
    static let knownDeadMetrics: [String: String] = [
        "bootstrapMetricsSystem": "not a metric: the swift-metrics factory, unused by the daemon",
    ]

    @Test func everyMetricHandleIsUpdatedByTheCode() throws {
        let registry = try String(contentsOfFile: Self.root + "/Sources/KernelMetrics/KernelMetrics.swift", encoding: .utf8)
        let code = try Self.sources(excluding: "KernelMetrics")
        let handles = matches(#"public let (\w+): Metric(?:Counter|Gauge|Histogram)"#, in: registry)
            + matches(#"public func (\w+)\("#, in: registry).filter { $0 != "render" }
        #expect(handles.count > 20, "found the handles: \(handles)")
        var dead: [String] = []
        for name in handles where !code.contains("." + name + ".") && !code.contains("." + name + "(") {
            dead.append(name)
        }
        #expect(Set(dead) == Set(Self.knownDeadMetrics.keys), "dead: \(dead.sorted())")
    }

    /// Keys read through another property than the one they are parsed into.
    static let readAs: [String: String] = ["read_shards": "assignedShards", "client_ca_file": "clientCAFile"]
    /// Still parsed but not read, each with why.
    static let knownDeadKeys: [String: String] = [:]

    /// A key is read when the property it is parsed into (`prop = reader.int("key", …)`) appears
    /// anywhere in the sources beyond its declaration, that assignment and the redacted
    /// description (which prints every key).
    @Test func everyConfigKeyIsRead() throws {
        let base = Self.root + "/Sources/KernelConfig"
        let all = try Self.sources(excluding: "KernelConfig/RedactedDescription.swift")
        var keys: [String] = []
        var parsedInto: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: base) where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: base + "/" + file, encoding: .utf8)
            for list in matches(#"static let keys = \[([^\]]*)\]"#, in: text) {
                keys += matches(#""([a-z0-9_]+)""#, in: list)
            }
            for key in keys where parsedInto[key] == nil {
                if let property = matches(#"(\w+) = (?:try )?\w+\.\w+\("\#(key)""#, in: text).first { parsedInto[key] = property }
            }
        }
        #expect(keys.count > 40, "found the keys: \(keys.count)")
        var dead: [String] = []
        for key in keys {
            let property = Self.readAs[key] ?? parsedInto[key] ?? camel(key)
            let uses = matches(#"(?m)^(.*\b\#(property)\b.*)$"#, in: all).count   // lines
            if uses <= 2 { dead.append("\(key) (\(property), \(uses))") }
        }
        #expect(Set(dead.map { String($0.prefix { $0 != " " }) }) == Set(Self.knownDeadKeys.keys), "dead: \(dead.sorted())")
    }

    private func camel(_ key: String) -> String {
        let parts = key.split(separator: "_")
        return parts.first.map(String.init)! + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    private func matches(_ pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
