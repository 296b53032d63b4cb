import KernelJSON
@testable import KernelOnboarding
import Testing

/// JSONDeepMerge: the upgrade merge of docs/onboarding.md, "Subjects" (objects recursive; arrays, scalars, null replace).
@Suite struct DeepMergeTests {
    func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    func merged(_ base: String, _ delta: String) throws -> String {
        JSONWriter.serialize(try JSONDeepMerge.merge(try json(base), try json(delta)))
    }

    @Test func objectsMergeRecursively() throws {
        #expect(try merged(#"{"a":1,"b":{"c":2,"d":{"e":3}}}"#, #"{"b":{"d":{"f":4}},"g":5}"#)
            == #"{"a":1,"b":{"c":2,"d":{"e":3,"f":4}},"g":5}"#)
    }

    @Test func arraysScalarsAndNullReplace() throws {
        #expect(try merged(#"{"a":[1,2,3],"b":"x","c":{"d":1}}"#, #"{"a":[9],"b":2,"c":null}"#)
            == #"{"a":[9],"b":2,"c":null}"#)
        // null sets the member to null; it does not delete it.
        #expect(try merged(#"{"a":1}"#, #"{"a":null}"#) == #"{"a":null}"#)
        // An object in the delta replaces a scalar or an array, and the other way round.
        #expect(try merged(#"{"a":1,"b":[1]}"#, #"{"a":{"x":1},"b":{"y":2}}"#) == #"{"a":{"x":1},"b":{"y":2}}"#)
        #expect(try merged(#"{"a":{"x":1}}"#, #"{"a":[1]}"#) == #"{"a":[1]}"#)
    }

    @Test func nonObjectTopLevelReplaces() throws {
        #expect(try merged(#"{"a":1}"#, #"[1,2]"#) == "[1,2]")
        #expect(try merged(#"[1,2]"#, #"{"a":1}"#) == #"{"a":1}"#)
        #expect(try merged(#""text""#, "null") == "null")
        #expect(try merged("5", "6") == "6")
    }

    @Test func emptyDeltaKeepsBase() throws {
        #expect(try merged(#"{"a":{"b":[1,{"c":2}]},"d":"e"}"#, "{}") == #"{"a":{"b":[1,{"c":2}]},"d":"e"}"#)
        #expect(try merged("{}", #"{"a":1}"#) == #"{"a":1}"#)
    }

    @Test func newKeysAppendInDeltaOrderAndExistingKeepTheirPlace() throws {
        #expect(try merged(#"{"z":1,"a":2}"#, #"{"m":3,"z":4,"b":5}"#) == #"{"z":4,"a":2,"m":3,"b":5}"#)
    }

    @Test func duplicateKeysLastWinsOnBothSides() throws {
        #expect(try merged(#"{"a":1,"a":{"x":1}}"#, #"{"a":{"y":2},"a":{"z":3}}"#) == #"{"a":{"x":1,"z":3}}"#)
        let result = try JSONDeepMerge.merge(try json(#"{"k":1,"k":2,"k":3}"#), try json("{}"))
        #expect(result.objectValue?.members.count == 1)
        #expect(result["k"] == .number("3"))
    }

    @Test func keysCompareByBytesNotCanonicalEquivalence() throws {
        // "é" precomposed and "e" + combining acute are different keys to Postgres and producers.
        let result = try merged(#"{"\u00e9":1}"#, #"{"e\u0301":2}"#)
        #expect(result == "{\"\u{e9}\":1,\"e\u{301}\":2}")
        #expect(try JSONParser.parse(result).objectValue?.members.count == 2)
    }

    @Test func numbersKeepTheirText() throws {
        #expect(try merged(#"{"p":187.2500}"#, #"{"q":1e-7}"#) == #"{"p":187.2500,"q":1e-7}"#)
    }

    @Test func parserDepthLimitMergesFine() throws {
        // The deepest documents the parser accepts (64 levels) merge without hitting the limit.
        let depth = 63
        let base = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        let delta = String(repeating: #"{"a":"#, count: depth) + #"{"b":2}"# + String(repeating: "}", count: depth)
        let result = try JSONDeepMerge.merge(try json(base), try json(delta))
        var node = result
        for _ in 0..<depth { node = node["a"]! }
        #expect(node == .object(JSONObject([(key: "b", value: .number("2"))])))
    }

    @Test func handBuiltDeepValuesAreRefusedNotOverflowingTheStack() throws {
        func nested(_ levels: Int, leaf: JSONValue) -> JSONValue {
            var value = leaf
            for _ in 0..<levels { value = .object(JSONObject([(key: "a", value: value)])) }
            return value
        }
        let deep = nested(500, leaf: .number("1"))
        #expect(throws: JSONDeepMerge.Failure.tooDeep) { try JSONDeepMerge.merge(deep, deep) }
        #expect(JSONDeepMerge.Failure.tooDeep.reasonCode == "merge_too_deep")
        // Depth only counts where both sides are objects: a deep delta over a shallow base just replaces.
        #expect(try JSONDeepMerge.merge(.object(JSONObject([(key: "a", value: .null)])), deep) == deep)
        // A custom limit applies exactly.
        let ten = nested(10, leaf: .null)
        #expect(throws: JSONDeepMerge.Failure.tooDeep) { try JSONDeepMerge.merge(ten, ten, maxDepth: 5) }
        #expect(try JSONDeepMerge.merge(ten, ten, maxDepth: 11) == ten)
    }

    @Test func hugeStringsAndManyKeys() throws {
        let big = String(repeating: "x", count: 1 << 20)
        let base = JSONValue.object(JSONObject([(key: big, value: .string(big))]))
        let delta = JSONValue.object(JSONObject([(key: big, value: .string("small")), (key: "k", value: .string(big))]))
        let result = try JSONDeepMerge.merge(base, delta)
        #expect(result[big] == .string("small"))
        #expect(result["k"]?.stringValue?.utf8.count == 1 << 20)

        // 20 000 keys on each side, half overlapping: linear, not quadratic.
        let left = JSONObject((0..<20_000).map { (key: "k\($0)", value: JSONValue.number("\($0)")) })
        let right = JSONObject((10_000..<30_000).map { (key: "k\($0)", value: JSONValue.string("r")) })
        let wide = try JSONDeepMerge.merge(.object(left), .object(right))
        #expect(wide.objectValue?.members.count == 30_000)
        #expect(wide["k0"] == .number("0"))
        #expect(wide["k15000"] == .string("r"))
    }

    @Test func invalidUTF8KeysAreRepairedByTheParserAndMergeStably() throws {
        let base = try JSONParser.parse([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]) // {"\xFF":1}
        let delta = try JSONParser.parse([0x7B, 0x22, 0xFE, 0x22, 0x3A, 0x32, 0x7D]) // {"\xFE":2}
        // Both keys decode to U+FFFD, so they are the same key after repair.
        let result = try JSONDeepMerge.merge(base, delta)
        #expect(result.objectValue?.members.count == 1)
        #expect(result["\u{FFFD}"] == .number("2"))
    }
}
