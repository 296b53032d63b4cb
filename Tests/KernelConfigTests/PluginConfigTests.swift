@testable import KernelConfig
import Testing

@Suite("plugins.config → JSON for plugin init")
struct PluginConfigTests {
    func json(_ body: String) throws -> String {
        let config = try Fixture.parse(Fixture.yaml(["plugins": ["config:", "  p:"] + body.split(separator: "\n")
            .map { "    " + $0 }]))
        return config.pluginConfigJSON(for: "p")
    }

    @Test("scalars are typed like YAML 1.2 core, in document order")
    func scalarTyping() throws {
        let text = try json("""
        z: 1
        a: -2.5e3
        b: true
        c: ~
        d: hello
        e: "42"
        f: !!str 7
        g: +3
        h: 1.
        i: .inf
        j: 0x1F
        k: 007
        """)
        #expect(text == #"{"z":1,"a":-2.5e3,"b":true,"c":null,"d":"hello","e":"42","f":"7","g":3,"h":"1.","i":".inf","j":"0x1F","k":"007"}"#)
    }

    @Test("nested sequences and mappings")
    func nesting() throws {
        let text = try json("""
        venues: [XNAS, XNYS]
        limits: {max: 10, names: {a: b}}
        empty_list: []
        empty_map: {}
        """)
        #expect(text == #"{"venues":["XNAS","XNYS"],"limits":{"max":10,"names":{"a":"b"}},"empty_list":[],"empty_map":{}}"#)
    }

    @Test("strings are escaped for JSON")
    func escaping() throws {
        let text = try json(#"s: "quote\" back\\ nl\n tab\t bell\u0007 é ✓ </script>""#)
        #expect(text == #"{"s":"quote\" back\\ nl\n tab\t bell\u0007 é ✓ </script>"}"#)
    }

    @Test("JSON escaper covers every control character")
    func escaperControls() {
        var out = ""
        YAMLToJSON.writeString("\u{0}\u{8}\u{C}\u{1F}\u{7F}", into: &out)
        #expect(out == "\"\\u0000\\b\\f\\u001f\u{7F}\"")
    }

    @Test("a null plugin entry means an empty object; absent plugins get {}")
    func nullAndAbsent() throws {
        let config = try Fixture.parse(Fixture.yaml(["plugins": ["config: {quiet: ~}"]]))
        #expect(config.pluginConfigJSON(for: "quiet") == "{}")
        #expect(config.pluginConfigJSON(for: "missing") == "{}")
    }

    @Test("non-string keys inside a plugin's config are refused")
    func complexKeys() {
        let issues = Fixture.issues(Fixture.yaml(["plugins": ["config: {p: {[a]: 1}}"]]))
        #expect(Fixture.issue(at: "plugins.config.p", in: issues)?.reason == .wrongType)
    }

    @Test("JSON number grammar")
    func numbers() {
        for good in ["0", "-0", "1", "-12", "1.5", "1e5", "1E+5", "1.25e-3"] {
            #expect(YAMLToJSON.isJSONNumber(good), "\(good)")
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1_000", "NaN", "0x1"] {
            #expect(!YAMLToJSON.isJSONNumber(bad), "\(bad)")
        }
    }
}
