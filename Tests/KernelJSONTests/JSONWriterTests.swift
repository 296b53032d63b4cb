import Testing
@testable import KernelJSON

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test("compact output in stored order")
    func compact() throws {
        let v = try JSONParser.parse(#" { "b" : [ 1 , 2.50 , "x" ] , "a" : { } , "n" : null , "t" : true , "e":[] } "#)
        #expect(JSONWriter.serialize(v) == #"{"b":[1,2.50,"x"],"a":{},"n":null,"t":true,"e":[]}"#)
        #expect(v.description == JSONWriter.serialize(v))
        #expect(JSONWriter.serialize(.bool(false)) == "false")
        #expect(JSONWriter.serialize(.number("-1e-7")) == "-1e-7")
    }

    @Test("duplicates are written as stored")
    func duplicates() throws {
        let text = #"{"a":1,"a":2}"#
        #expect(JSONWriter.serialize(try JSONParser.parse(text)) == text)
    }

    @Test("string escaping")
    func escaping() {
        let s = "q\" b\\ n\n r\r t\t b\u{08} f\u{0C} nul\u{0} us\u{1F} del\u{7F} / < é 😀 \u{2028}"
        let expected = #""q\" b\\ n\n r\r t\t b\b f\f nul\u0000 us\u001f del"# + "\u{7F}" + #" / < é 😀 "# + "\u{2028}\""
        #expect(JSONWriter.serialize(.string(s)) == expected)
        var out: [UInt8] = Array("x".utf8)
        JSONWriter.appendString("\u{1}", to: &out)
        #expect(out == Array(#"x"\u0001""#.utf8))
        var empty: [UInt8] = []
        JSONWriter.appendString("", to: &empty)
        #expect(empty == [0x22, 0x22])
    }

    @Test("hand-built invalid numbers are written as null so the output stays JSON")
    func invalidNumberText() throws {
        let v = JSONValue.array([.number("1.5"), .number("NaN"), .number(""), .number(" 1")])
        let text = JSONWriter.serialize(v)
        #expect(text == "[1.5,null,null,null]")
        #expect(parseError(text) == nil)
    }

    @Test("round trip: parse(serialize(v)) == v and serialize is a fixed point")
    func roundTrip() throws {
        let docs = [
            sampleTradeEvent,
            #"{"k\u0000\"":"\ud83d\ude00\u001f\\","a":[[],{},[{}]],"n":-0.0e+10}"#,
            #"["\u2028", "tab\there", 1E5, 0, false]"#,
            "\"\u{10FFFF}\"",
        ]
        for doc in docs {
            let v = try JSONParser.parse(doc)
            let text = JSONWriter.serialize(v)
            let again = try JSONParser.parse(text)
            #expect(again == v)
            #expect(JSONWriter.serialize(again) == text)
            var bytes: [UInt8] = []
            JSONWriter.serialize(v, into: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == text)
        }
    }
}
