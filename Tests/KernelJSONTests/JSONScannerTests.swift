import Testing
@testable import KernelJSON

@Suite("JSONScanner")
struct JSONScannerTests {
    @Test("field finds top-level members of every kind with exact ranges")
    func kindsAndRanges() {
        let doc = #" { "s" : "a\"b" , "n":-1.50e3, "t":true, "f":false, "z":null, "a":[1,[2]], "o":{"k":{}} } "#
        let bytes = Array(doc.utf8)
        let s = field("s", in: bytes)
        #expect(s.kind == .string)
        #expect(s.text == #"a\"b"#)   // raw, between the quotes, escapes not decoded
        #expect(bytes[s.range.lowerBound - 1] == UInt8(ascii: "\""))
        #expect(field("n", in: bytes).kind == .number)
        #expect(field("n", in: bytes).text == "-1.50e3")
        #expect(field("t", in: bytes).kind == .bool)
        #expect(field("t", in: bytes).text == "true")
        #expect(field("f", in: bytes).text == "false")
        #expect(field("z", in: bytes).kind == .null)
        #expect(field("z", in: bytes).text == "null")
        #expect(field("a", in: bytes).kind == .array)
        #expect(field("a", in: bytes).text == "[1,[2]]")
        #expect(field("o", in: bytes).kind == .object)
        #expect(field("o", in: bytes).text == #"{"k":{}}"#)
        #expect(field("missing", in: bytes).kind == .absent)
        #expect(field("", in: bytes).kind == .absent)
        #expect(field("", in: #"{"":7}"#).text == "7")
        #expect(field("x", in: #"{"x":""}"#).kind == .string)
        #expect(field("x", in: #"{"x":""}"#).range.isEmpty)
    }

    @Test("field only looks at the top level")
    func nestedNotFound() {
        let doc = #"{"payload":{"price":"1"},"tags":[{"price":2}]}"#
        #expect(field("price", in: doc).kind == .absent)
        #expect(field("payload", in: doc).text == #"{"price":"1"}"#)
        // A key spelled inside a string value is not a key.
        #expect(field("price", in: #"{"a":"\"price\":1"}"#).kind == .absent)
    }

    @Test("field decodes escapes in keys and takes the last duplicate")
    func escapedAndDuplicateKeys() {
        #expect(field("price", in: #"{"\u0070rice":1}"#).text == "1")
        #expect(field("price", in: #"{"price":1,"\u0070ric\u0065":2}"#).text == "2")
        #expect(field("price", in: #"{"\u0070rice":1,"price":3}"#).text == "3")
        #expect(field("a\"b", in: #"{"a\"b":true}"#).kind == .bool)
        #expect(field("a\\b", in: #"{"a\\b":true}"#).kind == .bool)
        #expect(field("é", in: #"{"\u00e9":1}"#).text == "1")
        #expect(field("é", in: #"{"é":2}"#).text == "2")
        #expect(field("e\u{301}", in: #"{"é":2}"#).kind == .absent) // bytes, not canonical equivalence
        #expect(field("😀", in: #"{"\ud83d\ude00":1}"#).text == "1")
        #expect(field("\u{FFFD}", in: #"{"\ud83d":1}"#).text == "1")
        #expect(field("\u{FFFD}", in: Array(#"{""#.utf8) + [0xFF] + Array(#"":1}"#.utf8)).text == "1")
        #expect(field("pric", in: #"{"price":1}"#).kind == .absent)
        #expect(field("prices", in: #"{"price":1}"#).kind == .absent)
        #expect(field("pricé", in: #"{"price":1}"#).kind == .absent)
        #expect(field("a", in: #"{"a":1,"b":2,"a":{"x":[]},"c":3}"#).text == #"{"x":[]}"#)
        // A key containing a literal backslash is not an escape on the lookup side.
        #expect(field("\\u0070", in: #"{"p":1}"#).kind == .absent)
    }

    @Test("field on the sample event")
    func sampleEvent() {
        let bytes = Array(sampleTradeEvent.utf8)
        #expect(field("event_id", in: bytes).text == "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21")
        #expect(field("ts", in: bytes).kind == .string)
        let payload = field("payload", in: bytes)
        #expect(payload.kind == .object)
        #expect(payload.text.hasPrefix(#"{"symbol":"AAPL""#))
        #expect(field("price", in: Array(payload.text.utf8)).text == "187.2500")
        #expect(field("tags", in: bytes).kind == .array)
    }

    @Test("field reports malformed input as error, well-formed non-objects as absent")
    func errorsAndNonObjects() {
        #expect(field("a", in: "[1]").kind == .absent)
        #expect(field("a", in: "\"a\"").kind == .absent)
        #expect(field("a", in: " 5 ").kind == .absent)
        #expect(field("a", in: "[1").kind == .error)
        #expect(field("a", in: "").kind == .error)
        #expect(field("a", in: "{").kind == .error)
        #expect(field("a", in: #"{"a":1"#).kind == .error)
        #expect(field("a", in: #"{"a":1,}"#).kind == .error)
        #expect(field("a", in: #"{"a":1} x"#).kind == .error)
        #expect(field("a", in: #"{"a":01}"#).kind == .error)
        #expect(field("a", in: #"{"a":1,"b":[}"#).kind == .error)
        #expect(field("a", in: #"{"a":1 "b":2}"#).kind == .error)
        #expect(field("a", in: #"{a:1}"#).kind == .error)
        #expect(field("a", in: "{}").kind == .absent)
        #expect(field("a", in: " { } ").kind == .absent)
        // Depth: the top-level object is level 1 of 64.
        let deep = #"{"a":"# + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"
        #expect(field("a", in: deep).kind == .array)
        let tooDeep = #"{"a":"# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"
        #expect(field("a", in: tooDeep).kind == .error)
        #expect(Array(tooDeep.utf8).withUnsafeBytes { JSONScanner.field("a", in: $0, maxDepth: 65).kind } == .array)
    }

    @Test("field agrees with the parser on every member of the sample")
    func agreesWithParser() throws {
        let bytes = Array(sampleTradeEvent.utf8)
        let tree = try JSONParser.parse(bytes)
        for key in tree.objectValue!.keys {
            try checkField(key, bytes: bytes, expected: tree[key]!)
        }
    }

    @Test("fields pulls several members in one pass, like field for each")
    func multipleFields() {
        let bytes = Array(sampleTradeEvent.utf8)
        let keys = ["event_id", "ts", "subject_id", "payload", "tags", "missing", "payload"]
        let found = bytes.withUnsafeBytes { JSONScanner.fields(keys, in: $0) }
        #expect(found.count == keys.count)
        for (key, f) in zip(keys, found) {
            let single = field(key, in: bytes)
            #expect(f.kind == single.kind, "\(key)")
            #expect(f.range == single.range, "\(key)")
        }
        #expect(found[5].kind == .absent)
        let dup = Array(#"{"a":1,"\u0061":2,"b":3}"#.utf8)
        #expect(dup.withUnsafeBytes { JSONScanner.fields(["a", "b"], in: $0) }.map { String(decoding: dup[$0.range], as: UTF8.self) } == ["2", "3"])
        let bad = Array(#"{"a":1,"#.utf8)
        #expect(bad.withUnsafeBytes { JSONScanner.fields(["a", "b"], in: $0) }.map(\.kind) == [.error, .error])
        #expect(bad.withUnsafeBytes { JSONScanner.fields([], in: $0) }.isEmpty)
        // Names that differ only in length, the empty name, and non-ASCII names raw or escaped.
        let odd = Array(#"{"ab":1,"a":2,"":3,"é":4,"été":5,"abc":6}"#.utf8)
        let names = ["a", "ab", "", "é", "été", "abcd", "x"]
        let values = odd.withUnsafeBytes { JSONScanner.fields(names, in: $0) }
            .map { $0.kind == .absent ? "-" : String(decoding: odd[$0.range], as: UTF8.self) }
        #expect(values == ["2", "1", "3", "4", "5", "-", "-"])
    }

    @Test("validate agrees with parse")
    func validateBasics() {
        #expect(validate(Array(sampleTradeEvent.utf8)) == nil)
        #expect(validate([]) == JSONError(.unexpectedEnd, at: 0))
        #expect(validate(Array("[1,2".utf8)) == JSONError(.unexpectedEnd, at: 4))
        #expect(validate(Array("[[1]]".utf8), maxDepth: 1) == JSONError(.tooDeep, at: 1))
    }

    @Test("unescape decodes raw string text")
    func unescaping() {
        #expect(unescape(Array(#"plain"#.utf8)) == Array("plain".utf8))
        #expect(unescape([]) == [])
        #expect(unescape(Array(#"a\"b\\c\/\n\u00e9\ud83d\ude00"#.utf8)) == Array("a\"b\\c/\né😀".utf8))
        #expect(unescape(Array(#"\ud800"#.utf8)) == Array("\u{FFFD}".utf8))
        #expect(unescape(Array(#"a"b"#.utf8)) == nil)   // unescaped quote
        #expect(unescape(Array("a\nb".utf8)) == nil)    // raw control char
        #expect(unescape(Array(#"\x"#.utf8)) == nil)
        #expect(unescape(Array(#"ab\"#.utf8)) == nil)
        #expect(unescape(Array(#"\u12"#.utf8)) == nil)
        #expect(unescape(Array(#"\u12G4"#.utf8)) == nil)
    }
}

/// Checks that `JSONScanner.field(key)` describes the same value the parser produced.
func checkField(_ key: String, bytes: [UInt8], expected: JSONValue,
                sourceLocation: SourceLocation = #_sourceLocation) throws {
    let found = bytes.withUnsafeBytes { JSONScanner.field(key, in: $0) }
    let slice = Array(bytes[found.range])
    switch expected {
    case .string(let s):
        #expect(found.kind == .string, sourceLocation: sourceLocation)
        #expect(unescape(slice) == Array(s.utf8), sourceLocation: sourceLocation)
    case .null:
        #expect(found.kind == .null, sourceLocation: sourceLocation)
    case .bool:
        #expect(found.kind == .bool, sourceLocation: sourceLocation)
    case .number:
        #expect(found.kind == .number, sourceLocation: sourceLocation)
    case .array:
        #expect(found.kind == .array, sourceLocation: sourceLocation)
    case .object:
        #expect(found.kind == .object, sourceLocation: sourceLocation)
    }
    if found.kind != .string {
        #expect(try JSONParser.parse(slice, maxDepth: 1000) == expected, sourceLocation: sourceLocation)
    }
}
