import KernelTestSupport
import Testing
@testable import KernelJSON

@Suite("Hostile inputs")
struct HostileInputTests {
    @Test("every truncation of the sample event fails cleanly in parse, validate and field")
    func truncations() {
        #expect(SampleEvents.truncatedTrade.count > 400)
        for (n, prefix) in SampleEvents.truncatedTrade.enumerated() {
            let pe = parseError(bytes: prefix)
            #expect(pe != nil, "prefix \(n)")
            #expect(validate(prefix) == pe, "prefix \(n)")
            #expect(field("payload", in: prefix).kind == .error, "prefix \(n)")
        }
        #expect(parseError(bytes: Array(sampleTradeEvent.utf8)) == nil)
    }

    @Test("100k-deep nesting is rejected as too deep without recursion")
    func deepNesting() throws {
        let n = 100_000
        let arrays = Array(String(repeating: "[", count: n).utf8) + Array(String(repeating: "]", count: n).utf8)
        #expect(parseError(bytes: arrays) == JSONError(.tooDeep, at: 64))
        #expect(validate(arrays) == JSONError(.tooDeep, at: 64))
        // With the limit lifted, the iterative reader walks it all without touching the call stack.
        #expect(validate(arrays, maxDepth: Int.max) == nil)
        #expect(validate(Array(arrays.dropLast()), maxDepth: Int.max) == JSONError(.unexpectedEnd, at: 2 * n - 1))

        let objects = Array(String(repeating: #"{"a":"#, count: n).utf8)
        #expect(parseError(bytes: objects) == JSONError(.tooDeep, at: 64 * 5))
        #expect(parseError(bytes: objects, maxDepth: Int.max) == JSONError(.unexpectedEnd, at: 5 * n))
        #expect(field("a", in: objects).kind == .error)
        #expect(field("a", in: arrays).kind == .error)

        let nestedInMember = Array((#"{"a":"# + String(repeating: "[", count: n)).utf8)
        #expect(field("a", in: nestedInMember).kind == .error)
    }

    @Test("huge numbers and strings are kept exactly")
    func hugeValues() throws {
        let digits = String(repeating: "9", count: 1_000_000)
        #expect(try JSONParser.parse(digits) == .number(digits))
        let exp = "-1.5e999999999999999999"
        #expect(try JSONParser.parse("[\(exp)]")[0]?.numberText == exp)
        let zeros = "-" + String(repeating: "0", count: 100_000)
        #expect(parseError(zeros) == JSONError(.invalidNumber, at: 2))

        let big = String(repeating: "ab\\n\\u00e9", count: 100_000)
        let v = try JSONParser.parse("\"" + big + "\"")
        #expect(v.stringValue?.utf8.count == 100_000 * 5)
        let doc = Array((#"{"x":""# + big + #"","y":1}"#).utf8)
        #expect(field("y", in: doc).text == "1")
        #expect(field("x", in: doc).range.count == big.utf8.count)
    }

    @Test("raw control characters are rejected in strings and outside them")
    func controlCharacters() {
        for c in UInt8(0)..<0x20 {
            let inString: [UInt8] = [0x22, 0x61, c, 0x22]
            #expect(parseError(bytes: inString) == JSONError(.invalidString, at: 2), "\(c)")
            #expect(validate(inString) == JSONError(.invalidString, at: 2))
            let outside: [UInt8] = [0x5B, c, 0x31, 0x5D]
            let isWhitespace = c == 0x09 || c == 0x0A || c == 0x0D
            #expect((parseError(bytes: outside) == nil) == isWhitespace, "\(c)")
        }
    }

    @Test("every byte value inside a string is accepted or rejected consistently")
    func everyByteInString() throws {
        for b in 0...255 {
            let byte = UInt8(b)
            let doc: [UInt8] = [0x22, byte, 0x22]
            let pe = parseError(bytes: doc)
            #expect(pe == validate(doc))
            if byte < 0x20 || byte == 0x22 || byte == 0x5C {
                #expect(pe != nil)
            } else {
                let expected = byte < 0x80 ? String(UnicodeScalar(byte)) : "\u{FFFD}"
                #expect(try JSONParser.parse(doc) == .string(expected))
            }
        }
    }

    @Test("random JSON documents parse to the tree they were generated from")
    func generatedDocuments() throws {
        var rng = SplitMix64(seed: 0x5EED_1234)
        for i in 0..<1500 {
            let expected = Generator.value(&rng, depth: 0)
            let text = Generator.text(expected, &rng)
            let bytes = Array(text.utf8)
            let parsed = try JSONParser.parse(bytes, maxDepth: 1000)
            #expect(parsed == expected, "iteration \(i): \(text)")
            #expect(validate(bytes, maxDepth: 1000) == nil)
            #expect(try JSONParser.parse(JSONWriter.serialize(parsed), maxDepth: 1000) == parsed)
            if let object = parsed.objectValue {
                for key in Set(object.keys) {
                    try checkField(key, bytes: bytes, expected: object[key]!)
                }
                #expect(field("\u{1}no such key", in: bytes).kind == .absent)
            }
        }
    }

    @Test("byte fuzz: no crash, and parse, validate and field agree")
    func fuzz() throws {
        var rng = SplitMix64(seed: 42)
        let seeds: [[UInt8]] = [
            Array(sampleTradeEvent.utf8),
            Array(#"{"a":[1,-2.5e+3,{"b":"\u00e9\ud83d\ude00"}],"c":null,"d":true}"#.utf8),
            Array(#"[{"k":"v"},[],{},"",0,false]"#.utf8),
        ]
        let tokens: [[UInt8]] = [
            "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud83d", "\\ude00", "0", "1", "-", ".", "e", "E", "+",
            "true", "false", "null", " ", "\n", "\"a\"", "\"price\"", "1.5", "01", "\u{0}", "é", "😀",
        ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x80]]
        var accepted = 0
        for i in 0..<4000 {
            var doc: [UInt8]
            if i % 4 == 3 {
                // Token soup.
                doc = []
                for _ in 0..<Int.random(in: 1...30, using: &rng) { doc += tokens.randomElement(using: &rng)! }
            } else {
                doc = seeds.randomElement(using: &rng)!
                for _ in 0..<Int.random(in: 1...3, using: &rng) { mutate(&doc, tokens: tokens, rng: &rng) }
            }
            let pe = parseError(bytes: doc)
            let ve = validate(doc)
            #expect(pe == ve, "doc \(doc)")
            let f = field("a", in: doc)
            #expect((f.kind == .error) == (ve != nil), "doc \(doc)")
            let many = doc.withUnsafeBytes { JSONScanner.fields(["a", "price", "b"], in: $0) }
            #expect(many[0].kind == f.kind && many[0].range == f.range, "doc \(doc)")
            if pe == nil {
                accepted += 1
                let v = try JSONParser.parse(doc)
                #expect(try JSONParser.parse(JSONWriter.serialize(v)) == v)
                if let a = v["a"] { try checkField("a", bytes: doc, expected: a) }
            }
        }
        // The fuzz must exercise both sides of the grammar to mean anything.
        #expect(accepted > 100)
        #expect(accepted < 3900)
    }

    private func mutate(_ doc: inout [UInt8], tokens: [[UInt8]], rng: inout SplitMix64) {
        guard !doc.isEmpty else { doc = tokens.randomElement(using: &rng)!; return }
        let at = Int.random(in: 0..<doc.count, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: doc[at] = UInt8.random(in: 0...255, using: &rng)
        case 1: doc.remove(at: at)
        case 2: doc.insert(contentsOf: tokens.randomElement(using: &rng)!, at: at)
        case 3: doc.removeSubrange(at..<min(doc.count, at + Int.random(in: 1...8, using: &rng)))
        default: doc = Array(doc[0..<at])
        }
    }
}

/// Random valid JSON values and a randomly formatted (whitespace, escapes) text for each.
enum Generator {
    static let keys = ["a", "b", "price", "é", "😀", "k\"q", "", "x\u{1}y"]
    static let chars: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "é", "€", "😀", "\u{7F}", "\u{2028}"]

    static func value<R: RandomNumberGenerator>(_ rng: inout R, depth: Int) -> JSONValue {
        let pick = Int.random(in: 0..<(depth < 6 ? 8 : 5), using: &rng)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(number(&rng))
        case 3, 4: return .string(string(&rng))
        case 5: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            let members = (0..<Int.random(in: 0...5, using: &rng)).map { _ in
                (key: keys.randomElement(using: &rng)!, value: value(&rng, depth: depth + 1))
            }
            return .object(JSONObject(members))
        }
    }

    static func number<R: RandomNumberGenerator>(_ rng: inout R) -> String {
        var s = Bool.random(using: &rng) ? "-" : ""
        s += Bool.random(using: &rng) ? "0" : String(UInt64.random(in: 1...UInt64.max, using: &rng))
        if Bool.random(using: &rng) { s += "." + String(UInt32.random(in: 0...9999, using: &rng)) + "0" }
        if Bool.random(using: &rng) { s += ["e", "E"].randomElement(using: &rng)! + ["", "+", "-"].randomElement(using: &rng)! + String(Int.random(in: 0...400, using: &rng)) }
        return s
    }

    static func string<R: RandomNumberGenerator>(_ rng: inout R) -> String {
        String((0..<Int.random(in: 0...12, using: &rng)).map { _ in chars.randomElement(using: &rng)! })
    }

    static func text<R: RandomNumberGenerator>(_ value: JSONValue, _ rng: inout R) -> String {
        var out = ws(&rng)
        write(value, &out, &rng)
        return out + ws(&rng)
    }

    private static func ws<R: RandomNumberGenerator>(_ rng: inout R) -> String {
        Int.random(in: 0..<3, using: &rng) == 0 ? [" ", "\n", "\t", "\r\n  "].randomElement(using: &rng)! : ""
    }

    private static func write<R: RandomNumberGenerator>(_ v: JSONValue, _ out: inout String, _ rng: inout R) {
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): quote(s, &out, &rng)
        case .array(let a):
            out += "["
            for (i, e) in a.enumerated() {
                if i > 0 { out += ws(&rng) + "," }
                out += ws(&rng)
                write(e, &out, &rng)
                out += ws(&rng)
            }
            out += "]"
        case .object(let o):
            out += "{" + ws(&rng)
            for (i, m) in o.members.enumerated() {
                if i > 0 { out += "," + ws(&rng) }
                quote(m.key, &out, &rng)
                out += ws(&rng) + ":" + ws(&rng)
                write(m.value, &out, &rng)
                out += ws(&rng)
            }
            out += "}"
        }
    }

    /// Writes a string literal, escaping characters that must be escaped and, at random, others too.
    private static func quote<R: RandomNumberGenerator>(_ s: String, _ out: inout String, _ rng: inout R) {
        out += "\""
        for scalar in s.unicodeScalars {
            let v = scalar.value
            let must = v < 0x20 || v == 0x22 || v == 0x5C
            if !must && Int.random(in: 0..<4, using: &rng) != 0 { out.unicodeScalars.append(scalar); continue }
            switch (v, Bool.random(using: &rng)) {
            case (0x22, true): out += "\\\""
            case (0x5C, true): out += "\\\\"
            case (0x0A, true): out += "\\n"
            case (0x09, true): out += "\\t"
            case (0x2F, true): out += "\\/"
            default:
                if v >= 0x10000 {
                    let u = v - 0x10000
                    out += hex(0xD800 + (u >> 10), &rng) + hex(0xDC00 + (u & 0x3FF), &rng)
                } else {
                    out += hex(v, &rng)
                }
            }
        }
        out += "\""
    }

    private static func hex<R: RandomNumberGenerator>(_ v: UInt32, _ rng: inout R) -> String {
        var h = String(v, radix: 16, uppercase: Bool.random(using: &rng))
        while h.count < 4 { h = "0" + h }
        return "\\u" + h
    }
}
