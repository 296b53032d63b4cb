import Testing
@testable import KernelJSON

@Suite("JSONParser")
struct JSONParserTests {
    @Test("scalars at top level")
    func scalars() throws {
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse("true") == .bool(true))
        #expect(try JSONParser.parse(" false\n") == .bool(false))
        #expect(try JSONParser.parse("\t\r\n 0 ") == .number("0"))
        #expect(try JSONParser.parse("\"hi\"") == .string("hi"))
        #expect(try JSONParser.parse("\"\"") == .string(""))
    }

    @Test("containers, nested, in input order")
    func containers() throws {
        #expect(try JSONParser.parse("[]") == .array([]))
        #expect(try JSONParser.parse("{}") == .object(JSONObject()))
        #expect(try JSONParser.parse("[ ]") == .array([]))
        #expect(try JSONParser.parse("{ \n}") == .object(JSONObject()))
        let v = try JSONParser.parse(#" { "b" : [1, {"c":[[]]}, "x", null, true] , "a":{} } "#)
        let expected = obj(
            ("b", .array([.number("1"), obj(("c", .array([.array([])]))), .string("x"), .null, .bool(true)])),
            ("a", .object(JSONObject()))
        )
        #expect(v == expected)
        #expect(v.objectValue?.keys == ["b", "a"])
        #expect(v["b"]?[1]?["c"]?[0] == .array([]))
        #expect(v["b"]?[5] == nil)
        #expect(v["b"]?[-1] == nil)
        #expect(v["zz"] == nil)
        #expect(v[0] == nil)
    }

    @Test("the sample trade event parses to the exact tree")
    func tradeEvent() throws {
        let v = try JSONParser.parse(sampleTradeEvent)
        let payload = obj(
            ("symbol", .string("AAPL")), ("price", .number("187.2500")), ("size", .number("300")),
            ("exchange", .string("XNAS")), ("conditions", .array([.string("@"), .string("F"), .string("T")])),
            ("bid", .number("187.24")), ("ask", .number("187.26")), ("seq", .number("1234567890123")),
            ("venue_ts", .string("2024-07-15T14:30:01.120000000Z")), ("odd_lot", .bool(false)),
            ("notional", .number("-1e-7")), ("note", .null)
        )
        let expected = obj(
            ("event_id", .string("0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21")),
            ("ts", .string("2024-07-15T14:30:01.123456789Z")),
            ("subject_id", .string("3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d")),
            ("payload", payload),
            ("tags", .array([
                obj(("key", .string("core.symbol")), ("value", .string("AAPL"))),
                obj(("key", .string("core.venue")), ("value", .string("XNAS"))),
                obj(("key", .string("desk")), ("value", .string("equities-été"))),
            ]))
        )
        #expect(v == expected)
        #expect(v["payload"]?["price"]?.numberText == "187.2500")
        #expect(v["payload"]?["note"]?.isNull == true)
        #expect(v["payload"]?["odd_lot"]?.boolValue == false)
        #expect(v["tags"]?.arrayValue?.count == 3)
        #expect(v["ts"]?.stringValue == "2024-07-15T14:30:01.123456789Z")
        #expect(v["payload"]?.objectValue?.members.count == 12)
    }

    @Test("numbers are kept verbatim", arguments: [
        "0", "-0", "187.2500", "-1e-7", "1E+400", "0.000000000000000000000000001", "1e0", "-0.0e-0",
        "123456789012345678901234567890123456789", "9007199254740993", "2.50", "1.0",
    ])
    func numbersVerbatim(text: String) throws {
        #expect(try JSONParser.parse(text) == .number(text))
        #expect(try JSONParser.parse("[\(text)]") == .array([.number(text)]))
        #expect(JSONNumber.isValid(text))
    }

    @Test("invalid numbers", arguments: [
        "01", "-", "+1", "1.", ".5", "1e", "1e+", "-01", "0x10", "NaN", "Infinity", "-Infinity", "1.e5", "--1", "00",
    ])
    func invalidNumbers(text: String) {
        #expect(parseError(text) != nil)
        #expect(!JSONNumber.isValid(text))
    }

    @Test("number error reasons and offsets")
    func numberErrors() {
        #expect(parseError("01") == JSONError(.invalidNumber, at: 1))
        #expect(parseError("[1.]") == JSONError(.invalidNumber, at: 3))
        #expect(parseError("-") == JSONError(.invalidNumber, at: 1))
        #expect(parseError("1e+x") == JSONError(.invalidNumber, at: 3))
        #expect(parseError("1 2") == JSONError(.trailingData, at: 2))
        #expect(!JSONNumber.isValid(" 1"))
        #expect(!JSONNumber.isValid(""))
        #expect(JSONNumber.isValid("-12.5e3"[...]))
    }

    @Test("string escapes decode")
    func escapes() throws {
        #expect(try JSONParser.parse(#""a\"b\\c\/d\be\ff\ng\rh\ti""#) == .string("a\"b\\c/d\u{08}e\u{0C}f\ng\rh\ti"))
        #expect(try JSONParser.parse(#""\u0041\u00e9\u20AC\u0000""#) == .string("Aé€\u{0}"))
        #expect(try JSONParser.parse(#""caf\u00E9 é""#) == .string("café é"))
        #expect(try JSONParser.parse(#""x\u0070rice""#) == .string("xprice"))
    }

    @Test("surrogate pairs combine; lone surrogates become U+FFFD")
    func surrogates() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONParser.parse(#""\uD834\uDD1E!""#) == .string("𝄞!"))
        #expect(try JSONParser.parse(#""\ud83d""#) == .string("\u{FFFD}"))
        #expect(try JSONParser.parse(#""\ude00x""#) == .string("\u{FFFD}x"))
        #expect(try JSONParser.parse(#""\ud83dx""#) == .string("\u{FFFD}x"))
        // High surrogate followed by a non-low escape: both decoded on their own.
        #expect(try JSONParser.parse(#""\ud83d\u0041""#) == .string("\u{FFFD}A"))
        #expect(try JSONParser.parse(#""\ud83d\ud83d\ude00""#) == .string("\u{FFFD}😀"))
        #expect(try JSONParser.parse(#""\ud83d\n""#) == .string("\u{FFFD}\n"))
    }

    @Test("raw UTF-8 passes through; invalid bytes become one U+FFFD each (as Go)")
    func invalidUTF8() throws {
        let valid: [UInt8] = [0x22] + Array("héllo 😀 日本".utf8) + [0x22]
        #expect(try JSONParser.parse(valid) == .string("héllo 😀 日本"))
        let cases: [([UInt8], String)] = [
            ([0xFF], "\u{FFFD}"),
            ([0x61, 0xC3], "a\u{FFFD}"),                         // truncated 2-byte
            ([0xE2, 0x82, 0x41], "\u{FFFD}\u{FFFD}A"),           // truncated 3-byte: Go gives one per byte
            ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}"),    // encoded surrogate
            ([0xC0, 0xAF], "\u{FFFD}\u{FFFD}"),                  // overlong '/'
            ([0xF4, 0x90, 0x80, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"), // above U+10FFFF
            ([0x80, 0x5C, 0x6E, 0xBF], "\u{FFFD}\n\u{FFFD}"),   // mixed with an escape
        ]
        for (inner, expected) in cases {
            let doc: [UInt8] = [0x22] + inner + [0x22]
            #expect(try JSONParser.parse(doc) == .string(expected), "\(inner)")
            #expect(unescape(inner) == Array(expected.utf8), "\(inner)")
            #expect(validate(doc) == nil)
        }
        // Also in keys.
        let keyDoc: [UInt8] = Array(#"{""#.utf8) + [0xFF] + Array(#"":1}"#.utf8)
        #expect(try JSONParser.parse(keyDoc)["\u{FFFD}"] == .number("1"))
    }

    @Test("duplicate keys are kept in order; lookup takes the last")
    func duplicates() throws {
        let v = try JSONParser.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(v["a"] == .number("3"))
        #expect(v.objectValue?.keys == ["a", "b", "a"])
        #expect(v.objectValue?.members.map(\.value) == [.number("1"), .number("2"), .number("3")])
        // Escaped spelling of the same key is the same key.
        #expect(try JSONParser.parse(#"{"price":1,"\u0070rice":2}"#)["price"] == .number("2"))
    }

    @Test("keys and strings compare by bytes, not canonical equivalence")
    func byteEquality() throws {
        let v = try JSONParser.parse(#"{"\u00e9":1,"e\u0301":2}"#)
        #expect(v["é"] == .number("1"))
        #expect(v["e\u{301}"] == .number("2"))
        #expect(JSONValue.string("é") != .string("e\u{301}"))
        #expect(JSONValue.number("1.0") != .number("1"))
        #expect(obj(("a", .null), ("b", .null)) != obj(("b", .null), ("a", .null)))
    }

    @Test("strict grammar rejections with reasons", arguments: [
        ("", JSONError(.unexpectedEnd, at: 0)),
        ("   ", JSONError(.unexpectedEnd, at: 3)),
        ("[1,]", JSONError(.unexpectedByte, at: 3)),
        (#"{"a":1,}"#, JSONError(.unexpectedByte, at: 7)),
        ("[1 2]", JSONError(.unexpectedByte, at: 3)),
        (#"{"a" 1}"#, JSONError(.unexpectedByte, at: 5)),
        ("{a:1}", JSONError(.unexpectedByte, at: 1)),
        ("{'a':1}", JSONError(.unexpectedByte, at: 1)),
        ("[1]]", JSONError(.trailingData, at: 3)),
        ("[1}", JSONError(.unexpectedByte, at: 2)),
        (#"{"a":1]"#, JSONError(.unexpectedByte, at: 6)),
        ("// c\n1", JSONError(.unexpectedByte, at: 0)),
        ("[1] // c", JSONError(.trailingData, at: 4)),
        ("tru", JSONError(.unexpectedEnd, at: 3)),
        ("trUe", JSONError(.unexpectedByte, at: 2)),
        ("nul", JSONError(.unexpectedEnd, at: 3)),
        ("True", JSONError(.unexpectedByte, at: 0)),
        ("\"abc", JSONError(.unexpectedEnd, at: 4)),
        ("\"a\tb\"", JSONError(.invalidString, at: 2)),
        ("\"a\nb\"", JSONError(.invalidString, at: 2)),
        ("\"a\u{0}b\"", JSONError(.invalidString, at: 2)),
        (#""\x41""#, JSONError(.invalidEscape, at: 2)),
        (#""\u00g1""#, JSONError(.invalidEscape, at: 5)),
        (#""\U0041""#, JSONError(.invalidEscape, at: 2)),
        (#""\u00"#, JSONError(.unexpectedEnd, at: 5)),
        (#""\"#, JSONError(.unexpectedEnd, at: 2)),
        ("\u{FEFF}1", JSONError(.unexpectedByte, at: 0)), // no BOM
        ("\u{0B}1", JSONError(.unexpectedByte, at: 0)),   // vertical tab is not JSON whitespace
    ])
    func rejections(text: String, expected: JSONError) {
        #expect(parseError(text) == expected)
        #expect(validate(Array(text.utf8)) == expected)
    }

    @Test("error description carries the reason code")
    func errorDescription() {
        #expect(JSONError(.unexpectedEnd, at: 17).description == "unexpected_end at byte 17")
        #expect(JSONError.Reason.tooLarge.rawValue == "too_large")
    }

    @Test("maxDepth counts containers, empty ones included")
    func depthLimit() throws {
        let deep64 = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let deep65 = "[" + deep64 + "]"
        #expect(parseError(deep64) == nil)
        #expect(parseError(deep65) == JSONError(.tooDeep, at: 64))
        #expect(parseError(#"{"a":{"b":1}}"#, maxDepth: 1) == JSONError(.tooDeep, at: 5))
        #expect(parseError(#"{"a":{}}"#, maxDepth: 1) == JSONError(.tooDeep, at: 5))
        #expect(parseError("[]", maxDepth: 0) == JSONError(.tooDeep, at: 0))
        #expect(try JSONParser.parse("7", maxDepth: 0) == .number("7"))
        #expect(parseError("[]", maxDepth: -5) == JSONError(.tooDeep, at: 0))
    }

    @Test("String, [UInt8] and raw-buffer entry points agree")
    func entryPoints() throws {
        let bytes = Array(sampleTradeEvent.utf8)
        let a = try JSONParser.parse(sampleTradeEvent)
        let b = try JSONParser.parse(bytes)
        let c = try bytes.withUnsafeBytes { raw throws(JSONError) in try JSONParser.parse(raw) }
        #expect(a == b)
        #expect(b == c)
        #expect(parseError(bytes: []) == JSONError(.unexpectedEnd, at: 0))
    }
}
