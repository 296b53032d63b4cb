@testable import KernelConfig
import KernelTestSupport
import Testing

@Suite("YAML anchors, aliases, merge keys and deep nesting are refused before Yams sees them")
struct YAMLPrecheckTests {
    static let refusal = "YAML anchors and aliases are not accepted in the kernel configuration"

    @Test("an anchor or alias where a node starts is refused at the node's position", arguments: [
        ("a: &x 1\n", "1:4"),
        ("a: *x\n", "1:4"),
        ("&x a: 1\n", "1:1"),
        ("- &x a\n", "1:3"),
        ("[a, &x b]\n", "1:5"),
        ("[a,*x]\n", "1:4"),
        ("{k: *x}\n", "1:5"),
        ("{\"k\":*x}\n", "1:6"),
        ("? *x\n: 1\n", "1:3"),
        ("--- &x\na: 1\n", "1:5"),
        ("a: !!str &x b\n", "1:4"),   // the node starts at its tag
        ("a:\n  &x\n  b: 1\n", "2:3"),
        ("a: b\n  c\nd: *x\n", "3:4"),
        ("a: |\n  *text\nb: *x\n", "3:4"),
        ("a: >2\n    *deeper\n  *same\nb: &x 1\n", "4:4"),
        ("a: \"x\n  y\"\nb: &z 1\n", "3:4"),
        ("a: 'it''s'\nb: *x\n", "2:4"),
        ("a: [b, # &c\n  &d e]\n", "2:3"),
        ("a: 1 # c\n---\n*x\n", "3:1"),
        ("\u{FEFF}a: *x\n", "1:4"),
        ("a: 1\r\nb: *x\r\n", "2:4"),
    ])
    func refused(text: String, position: String) {
        #expect(YAMLPrecheck.problem(in: text) == "\(position): \(Self.refusal)")
    }

    @Test("& and * inside scalars, comments and tags are text", arguments: [
        "a: \"&x *y\"\n",
        "a: \"q\\\" *y\"\n",
        "a: 'it''s &x'\n",
        "a: '\n  *y'\n",
        "a: 1 # &x *y\n",
        "# *x\na: 1\n",
        "  # &x\na: 1\n",
        "a: |\n  *not an alias\n  &nor an anchor\nb: 1\n",
        "a: >-\n  &x\n\n  *y\nb: 1\n",
        "a: |2\n    *deeper\n  *same\nb: 1\n",
        "- |\n  *x\n- b\n",
        "a: a*b\n",
        "a: x&y\n",
        "url: http://a/?x=1&y=2\n",
        "a: b *c &d\n",
        "a: b\n  *continued\n  &plain\n",
        "a*: 1\n",
        "[a*, b&c, d*e]\n",
        "{k: v*, w&: x}\n",
        "a: !local&tag x\n",
        "a: !<tag:x,2000:a&b*c> x\n",
        "%TAG !e! tag:e.com,2000:&x\n---\na: 1\n",
        "\"<<\": 1\n",
        "a: <<\n",
    ])
    func accepted(text: String) throws {
        #expect(YAMLPrecheck.problem(in: text) == nil)
        // And libyaml agrees the text is fine.
        let log = IssueLog()
        _ = KernelConfig.composeCleared(text, log: log)
        #expect(log.isEmpty, "\(log.issues.map(\.description))")
    }

    @Test("merge keys are refused", arguments: [
        ("<<: {a: 1}\n", "1:1"),
        ("b:\n  <<: {a: 1}\n", "2:3"),
        ("{x: 1, <<: {a: 1}}\n", "1:8"),
        ("? <<\n: {a: 1}\n", "1:3"),
    ])
    func mergeKeys(text: String, position: String) {
        #expect(YAMLPrecheck.problem(in: text)
            == "\(position): YAML merge keys (<<) are not accepted in the kernel configuration")
    }

    @Test("nesting deeper than the limit is refused, in flow and block style")
    func deepNesting() {
        let flow = "a: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "\n"
        #expect(YAMLPrecheck.problem(in: flow)?.contains("deeper than 128") == true)
        let compact = String(repeating: "- ", count: 200) + "x\n"
        #expect(YAMLPrecheck.problem(in: compact)?.contains("deeper than 128") == true)
        // A mapping and its indentless sequence share a column but are two levels.
        var indentless = ""
        for level in 0..<70 {
            let pad = String(repeating: " ", count: 2 * level)
            indentless += "\(pad)k:\n\(pad)- "
            indentless += level == 69 ? "x\n" : "\n"
        }
        #expect(YAMLPrecheck.problem(in: indentless)?.contains("deeper than 128") == true)
    }

    @Test("ordinary nesting is accepted")
    func ordinaryNesting() {
        var yaml = ""
        for level in 0..<40 {
            yaml += String(repeating: " ", count: 2 * level) + "k\(level):\n"
        }
        yaml += String(repeating: " ", count: 80) + "v: [[[{a: [1]}]]]\n"
        #expect(YAMLPrecheck.problem(in: yaml) == nil)
    }

    /// Random texts built from YAML's awkward pieces, checked against libyaml itself: among the
    /// texts `compose` accepts, the precheck refuses exactly those in which libyaml sees an anchor
    /// or alias. To know that, every `&` is turned into `*` (libyaml tokenizes both the same way),
    /// so that an anchor or alias libyaml sees becomes an undefined alias `compose` reports.
    /// (Texts `compose` refuses are refused whatever the precheck says.)
    @Test("the check agrees with libyaml on random texts")
    func agreesWithLibYAML() {
        let pieces = [
            "a", "b c", "*zz", "&zz", "x*y", "k&v", "&", "*", ": ", ":", "- ", "-", "? ", "?", "\n", "\n  ",
            "\n    ", "\n ", "  ", "\t", "#", " # ", "'", "\"", "''", "\\\"", "\\", "|", ">", "|-", ">2", "|+1",
            "[", "]", "{", "}", ", ", ",", "!t ", "!", "!a&b ", "!<x*y> ", "\n---\n", "--- ", "\n...\n",
            "%YAML 1.1\n", "\r\n", "%", "@", "\u{2028}", "é", "1",
        ]
        var random = SplitMix64(seed: 0x5EED_CAFE)
        var checked = 0
        for _ in 0..<30_000 {
            var text = ""
            for _ in 0..<(3 + Int(random.next() % 20)) {
                text += pieces[Int(random.next() % UInt64(pieces.count))]
            }
            let original = IssueLog()
            _ = KernelConfig.composeCleared(text, log: original)
            guard original.isEmpty || original.issues.contains(where: { $0.message.contains("found undefined alias") }) else { continue }
            let oracleText = String(text.map { $0 == "&" ? "*" : $0 })
            let log = IssueLog()
            _ = KernelConfig.composeCleared(oracleText, log: log)
            let problem = YAMLPrecheck.problem(in: text)
            if log.isEmpty {
                checked += 1
                #expect(problem == nil, "libyaml accepts \(String(reflecting: text)) but the precheck says \(problem ?? "")")
            } else if log.issues.contains(where: { $0.message.contains("found undefined alias") }) {
                checked += 1
                #expect(problem != nil, "libyaml sees an anchor or alias in \(String(reflecting: text))")
            }
        }
        // Most random texts are invalid YAML; make sure enough were informative.
        #expect(checked > 1_000, "only \(checked) texts were checked")
    }
}
