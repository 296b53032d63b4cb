@testable import KernelConfig
import Testing

@Suite("Hostile YAML gives errors, not crashes or hangs")
struct HostileInputTests {
    @Test("an empty document reports the required keys", arguments: ["", "\n", "# only a comment\n", "---\n", "~\n"])
    func emptyDocument(text: String) {
        let issues = Fixture.issues(text)
        #expect(issues.contains { $0.path == "postgres.dsn" && $0.reason == .missingKey })
        #expect(issues.allSatisfy { $0.reason == .missingKey })
    }

    @Test("a top level that is not a mapping is refused", arguments: ["[1, 2]\n", "just text\n", "42\n", "- a\n- b\n"])
    func notAMapping(text: String) {
        let issues = Fixture.issues(text)
        #expect(issues.count == 1)
        #expect(issues.first?.path == "")
        #expect(issues.first?.message.hasPrefix("expected a mapping") == true)
    }

    @Test("syntax errors carry line and column")
    func syntaxError() {
        let issues = Fixture.issues("server:\n  listen: [\n")
        #expect(issues.count == 1)
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message.contains("line") == true)
    }

    @Test("several documents in one file are refused")
    func multipleDocuments() {
        let issues = Fixture.issues(Fixture.yaml() + "---\n" + Fixture.yaml())
        #expect(issues.first?.reason == .syntax)
    }

    @Test("a billion-laughs alias bomb is refused quickly")
    func aliasBomb() {
        var yaml = Fixture.yaml() + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...12 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message.contains("aliases") == true)
    }

    @Test("an alias bomb used as a mapping key is refused before Yams hashes it")
    func aliasBombAsKey() {
        var yaml = "a0: &a0 {k: [x, x, x, x, x, x, x, x]}\n"
        for level in 1...15 {
            yaml += "a\(level): &a\(level) [*a\(level - 1), *a\(level - 1), *a\(level - 1), *a\(level - 1)]\n"
        }
        yaml += "? *a15\n: 1\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.first?.reason == .syntax)
    }

    @Test("an alias bomb inside plugin config is refused")
    func aliasBombInPluginConfig() {
        var yaml = Fixture.yaml() + "plugins:\n  config:\n    p0: &p0 {a: 1, b: 2, c: 3}\n"
        for level in 1...14 {
            yaml += "    p\(level): &p\(level) {a: *p\(level - 1), b: *p\(level - 1), c: *p\(level - 1), d: *p\(level - 1)}\n"
        }
        let issues = Fixture.issues(yaml)
        #expect(issues.first?.reason == .syntax)
    }

    @Test("small, honest aliases still work")
    func honestAliases() throws {
        let yaml = Fixture.yaml([
            "auth": ["admin_allowed_subjects: &ops [ops-1, ops-2]"],
            "plugins": ["config: {trade: &shared {scale: 4}, bar: *shared}"],
        ])
        let config = try Fixture.parse(yaml)
        #expect(config.auth.adminAllowedSubjects == ["ops-1", "ops-2"])
        #expect(config.pluginConfigJSON(for: "bar") == "{\"scale\":4}")
    }

    @Test("deep nesting is refused, not recursed into", arguments: [100, 900, 5000])
    func deepNesting(depth: Int) {
        let yaml = Fixture.yaml() + "plugins:\n  config:\n    deep: {x: "
            + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.path.hasPrefix("plugins.config.deep") == true || issues.first?.reason == .syntax)
    }

    @Test("an alias chain that nests deeper than the limit is refused")
    func deepAliasChain() {
        var yaml = Fixture.yaml() + "c0: &c0 [[[[[[[[[[x]]]]]]]]]]\n"
        for level in 1...40 {
            yaml += "c\(level): &c\(level) [[[[[[[[[[*c\(level - 1)]]]]]]]]]]\n"
        }
        let issues = Fixture.issues(yaml)
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message.contains("deeper") == true)
    }

    @Test("huge integers are range errors, not traps", arguments: [
        "99999999999999999999999999", "-99999999999999999999", "9223372036854775807", "2147483648", "1e9", "0x10", "",
    ])
    func hugeIntegers(text: String) {
        let issues = Fixture.issues(Fixture.yaml(["postgres": ["batch_size: \"\(text)\""]]))
        #expect(Fixture.issue(at: "postgres.batch_size", in: issues)?.reason != nil)
    }

    @Test("huge sizes are refused")
    func hugeSizes() {
        let issues = Fixture.issues(Fixture.yaml(["spill": ["max_bytes: \"99999999TiB\""]]))
        #expect(Fixture.issue(at: "spill.max_bytes", in: issues)?.reason == .invalidValue)
    }

    @Test("non-scalar keys, odd key spellings and control characters are reported, not crashed on")
    func oddKeys() {
        let yaml = Fixture.yaml() + "? [a, b]\n: 1\n\"\\u0001weird\\tkey\": 2\n" + String(repeating: "k", count: 500) + ": 3\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 3)
        #expect(issues.contains { $0.path == "" && $0.reason == .wrongType })
        #expect(issues.contains { $0.path.contains("\\u{1}weird\\tkey") })
        #expect(issues.allSatisfy { $0.description.count < 300 })
    }

    @Test("text larger than the limit is refused before parsing")
    func oversized() {
        let yaml = Fixture.yaml() + "# " + String(repeating: "x", count: KernelConfig.maxTextBytes) + "\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.reason == .syntax)
    }

    @Test("binary garbage and NUL bytes give a syntax error")
    func garbage() {
        let issues = Fixture.issues("server:\n  listen: \"a\u{0}b\"\n\u{1}\u{2}\u{7F}")
        #expect(issues.first?.reason == .syntax)
    }

    @Test("tags and merge keys do not smuggle values past the key check")
    func mergeKey() {
        let yaml = Fixture.yaml(["postgres": ["<<: {batch_size: 5}"]])
        let issues = Fixture.issues(yaml)
        #expect(Fixture.issue(at: "postgres.<<", in: issues)?.reason == .unknownKey)
    }
}
