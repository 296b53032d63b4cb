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

    static let aliasRefusal = "YAML anchors and aliases are not accepted in the kernel configuration"

    @Test("a billion-laughs alias bomb is refused quickly, at its first anchor")
    func aliasBomb() {
        var yaml = Fixture.yaml() + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...12 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        let line = Fixture.yaml().split(separator: "\n").count + 1
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.path == "")
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message == "\(line):5: \(Self.aliasRefusal)")
    }

    @Test("an alias bomb used as a mapping key is refused before Yams hashes it")
    func aliasBombAsKey() {
        var yaml = "a0: &a0 {k: [x, x, x, x, x, x, x, x]}\n"
        for level in 1...15 {
            yaml += "a\(level): &a\(level) [*a\(level - 1), *a\(level - 1), *a\(level - 1), *a\(level - 1)]\n"
        }
        yaml += "? *a15\n: 1\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message == "1:5: \(Self.aliasRefusal)")
    }

    @Test("an alias bomb inside plugin config is refused")
    func aliasBombInPluginConfig() {
        var yaml = Fixture.yaml() + "plugins:\n  config:\n    p0: &p0 {a: 1, b: 2, c: 3}\n"
        for level in 1...14 {
            yaml += "    p\(level): &p\(level) {a: *p\(level - 1), b: *p\(level - 1), c: *p\(level - 1), d: *p\(level - 1)}\n"
        }
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message.hasSuffix(Self.aliasRefusal) == true)
    }

    @Test("small, honest anchors and aliases are refused too: a daemon config does not need them")
    func honestAliases() throws {
        let aliased = Fixture.yaml([
            "auth": ["admin_allowed_subjects: &ops [ops-1, ops-2]"],
            "plugins": ["config: {trade: &shared {scale: 4}, bar: *shared}"],
        ])
        let issues = Fixture.issues(aliased)
        #expect(issues.count == 1)
        #expect(issues.first?.path == "")
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message.hasSuffix(Self.aliasRefusal) == true)

        let spelledOut = Fixture.yaml([
            "auth": ["admin_allowed_subjects: [ops-1, ops-2]"],
            "plugins": ["config: {trade: {scale: 4}, bar: {scale: 4}}"],
        ])
        let config = try Fixture.parse(spelledOut)
        #expect(config.auth.adminAllowedSubjects == ["ops-1", "ops-2"])
        #expect(config.pluginConfigJSON(for: "bar") == "{\"scale\":4}")
    }

    @Test("an unused anchor is refused")
    func unusedAnchor() {
        let issues = Fixture.issues(Fixture.yaml(["logging": ["level: &lvl info"]]))
        #expect(issues.count == 1)
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message.hasSuffix(Self.aliasRefusal) == true)
    }

    @Test("& and * in quoted strings, comments, block scalars and plain scalars are ordinary text")
    func ampersandsAndStarsInText() throws {
        let yaml = Fixture.yaml([
            "redis": ["password: \"p&ss*word\" # not &an *alias"],
            "plugins": [
                "config:",
                "  trade:",
                "    glob: a*b",
                "    pair: x&y",
                "    url: http://a/?x=1&y=2",
                "    quoted: 'it''s *fine*'",
                "    note: |",
                "      *literal",
                "      &text",
                "    folded: >-",
                "      & more",
                "      * text",
            ],
        ]) + "# *.sql and &friends\n"
        let config = try Fixture.parse(yaml)
        #expect(config.redis.password == "p&ss*word")
        let json = config.pluginConfigJSON(for: "trade")
        #expect(json.contains("\"glob\":\"a*b\""))
        #expect(json.contains("\"pair\":\"x&y\""))
        #expect(json.contains("\"url\":\"http://a/?x=1&y=2\""))
        #expect(json.contains("\"quoted\":\"it's *fine*\""))
        #expect(json.contains("\"note\":\"*literal\\n&text\\n\""))
        #expect(json.contains("\"folded\":\"& more * text\""))
    }

    @Test("deep nesting is refused, not recursed into", arguments: [100, 900, 5000])
    func deepNesting(depth: Int) {
        let yaml = Fixture.yaml() + "plugins:\n  config:\n    deep: {x: "
            + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.path.hasPrefix("plugins.config.deep") == true || issues.first?.reason == .syntax)
    }

    @Test("nesting deeper than the limit is refused before Yams recurses into it")
    func deepBlockNesting() {
        var yaml = Fixture.yaml() + "plugins:\n  config:\n    deep:\n"
        for level in 0..<140 {
            yaml += String(repeating: " ", count: 6 + level) + "k:\n"
        }
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message.contains("deeper than \(YAMLPrecheck.maxDepth) levels") == true)
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

    @Test("merge keys are refused; a quoted \"<<\" is just an unknown key")
    func mergeKey() {
        let issues = Fixture.issues(Fixture.yaml(["postgres": ["<<: {batch_size: 5}"]]))
        #expect(issues.count == 1)
        #expect(issues.first?.path == "")
        #expect(issues.first?.reason == .syntax)
        #expect(issues.first?.message.hasSuffix("YAML merge keys (<<) are not accepted in the kernel configuration") == true)

        let quoted = Fixture.issues(Fixture.yaml(["postgres": ["\"<<\": {batch_size: 5}"]]))
        #expect(Fixture.issue(at: "postgres.<<", in: quoted)?.reason == .unknownKey)
    }

    @Test("tags do not smuggle values past the key check")
    func taggedKey() {
        let issues = Fixture.issues(Fixture.yaml(["postgres": ["!!str batch_sizes: 5"]]))
        #expect(Fixture.issue(at: "postgres.batch_sizes", in: issues)?.reason == .unknownKey)
    }
}
