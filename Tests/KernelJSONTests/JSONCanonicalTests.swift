import Foundation
import KernelTestSupport
import Testing
@testable import KernelJSON

/// One vector of Tests/Fixtures/canonical/vectors.json.
struct CanonicalVector: CustomTestStringConvertible, Sendable {
    let name: String
    let input: [UInt8]
    let output: [UInt8]
    var testDescription: String { name }

    /// Every vector in the shared fixture file (loaded with our own parser: it is a test fixture).
    static let all: [CanonicalVector] = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/canonical/vectors.json").standardized.path
        guard let data = FileManager.default.contents(atPath: path),
              let doc = try? JSONParser.parse([UInt8](data)),
              let list = doc["vectors"]?.arrayValue else { return [] }
        return list.compactMap { v in
            guard let name = v["name"]?.stringValue else { return nil }
            if let i = v["input"]?.stringValue, let o = v["output"]?.stringValue {
                return CanonicalVector(name: name, input: Array(i.utf8), output: Array(o.utf8))
            }
            guard let i = v["input_hex"]?.stringValue.flatMap(hexBytes),
                  let o = v["output_hex"]?.stringValue.flatMap(hexBytes) else { return nil }
            return CanonicalVector(name: name, input: i, output: o)
        }
    }()
}

func hexBytes(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var i = 0
    while i < chars.count {
        guard let hi = ASCII.hexValue(chars[i]), let lo = ASCII.hexValue(chars[i + 1]) else { return nil }
        out.append(UInt8(hi << 4 | lo))
        i += 2
    }
    return out
}

@Suite("JSONCanonical")
struct JSONCanonicalTests {
    @Test("the shared vector file loads and is substantial")
    func vectorsLoad() {
        #expect(CanonicalVector.all.count >= 100)
    }

    @Test("shared vectors", arguments: CanonicalVector.all)
    func vector(_ v: CanonicalVector) {
        let got = JSONCanonical.canonicalize(v.input)
        #expect(got == v.output, "\(v.name): got \(String(decoding: got, as: UTF8.self))")
        // Canonical output is a fixed point.
        #expect(JSONCanonical.canonicalize(got) == got)
    }

    @Test("String overload")
    func stringOverload() {
        #expect(JSONCanonical.canonicalize(#"{"b":[1.0,"<"],"a":1e-7}"#) == #"{"a":1e-7,"b":[1,"\u003c"]}"#)
        #expect(JSONCanonical.canonicalize("not json") == "not json")
    }

    @Test("nesting up to Go's limit of 10000 is canonicalized, deeper is left unchanged")
    func depthLimit() {
        // Results are compared as Bools: a failure must not print 20 000 array elements.
        func nested(_ depth: Int) -> [UInt8] {
            Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
        }
        let ok = nested(10_000)
        var same = JSONCanonical.canonicalize(ok) == ok
        #expect(same)
        let spaced = Array(" [ ".utf8) + nested(9_999) + Array(" ] ".utf8)
        same = JSONCanonical.canonicalize(spaced) == ok
        #expect(same)
        var objects: [UInt8] = []
        for _ in 0..<10_000 { objects += Array(#"{"k":"#.utf8) }
        objects += Array("1".utf8) + Array(repeating: UInt8(ascii: "}"), count: 10_000)
        same = JSONCanonical.canonicalize(objects) == objects
        #expect(same)
        let tooDeep = nested(10_001)
        same = JSONCanonical.canonicalize(tooDeep) == tooDeep
        #expect(same)
        let tooDeepUnclosed = Array(repeating: UInt8(ascii: "["), count: 200_000)
        same = JSONCanonical.canonicalize(tooDeepUnclosed) == tooDeepUnclosed
        #expect(same)
    }

    @Test("many duplicate keys: the last of each wins, order by key")
    func manyDuplicates() {
        var text = "{"
        for i in 0..<500 { text += #""k\#(i % 7)":\#(i),"# }
        text += #""k3":"last"}"#
        let want = #"{"k0":497,"k1":498,"k2":499,"k3":"last","k4":494,"k5":495,"k6":496}"#
        #expect(JSONCanonical.canonicalize(text) == want)
    }

    @Test("number formatting: every random double round-trips and uses Go's notation")
    func randomDoubles() {
        var rng = SplitMix64(seed: 0x5EED_CA70)
        for _ in 0..<20_000 {
            let d = Double(bitPattern: rng.next())
            guard d.isFinite else { continue }
            let text = GoFloatFormat.format(d)
            #expect(Double(text)?.bitPattern == d.bitPattern, "\(d) → \(text)")
            let abs = d.magnitude
            let exponentForm = abs != 0 && (abs < 1e-6 || abs >= 1e21)
            #expect(text.contains("e") == exponentForm, "\(text)")
            #expect(!text.contains("e-0") && !text.contains("e+0") && !text.hasSuffix(".0"), "\(text)")
            // Shortest: exactly the significant digits of Swift's shortest description.
            #expect(significantDigits(text) == significantDigits(abs.description), "\(d) → \(text)")
        }
    }

    @Test("random numbers written in JSON canonicalize to text that parses back to the same double")
    func randomNumberText() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let mantissa = rng.next() % 10_000_000_000
            let exponent = Int(rng.next() % 700) - 350
            let text = "\(rng.next() & 1 == 0 ? "-" : "")\(mantissa)e\(exponent)"
            let want = Double(text)!
            let out = JSONCanonical.canonicalize(Array(text.utf8))
            if want.isInfinite {
                #expect(out == Array(text.utf8))
            } else {
                #expect(Double(String(decoding: out, as: UTF8.self))?.bitPattern == want.bitPattern, "\(text)")
            }
        }
    }

    @Test("fuzz: mutated documents never crash; valid output is a fixed point")
    func fuzz() {
        let seeds = CanonicalVector.all.map(\.input).filter { !$0.isEmpty }
        var rng = SplitMix64(seed: 7)
        let alphabet = Array(#"{}[]":,\-+.eE0123456789tfnu"#.utf8) + [0x00, 0x0A, 0x20, 0x7F, 0x80, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]
        for _ in 0..<5_000 {
            var doc = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0...(rng.next() % 4) {
                let position = Int(rng.next() % UInt64(doc.count + 1))
                switch rng.next() % 3 {
                case 0: doc.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: position)
                case 1: if position < doc.count { doc.remove(at: position) }
                default: if position < doc.count { doc[position] = UInt8(truncatingIfNeeded: rng.next()) }
                }
            }
            let out = JSONCanonical.canonicalize(doc)
            if JSONParser.isWellFormed(doc) {
                #expect(JSONCanonical.canonicalize(out) == out)
            } else {
                #expect(out == doc)
            }
        }
    }
}

extension JSONParser {
    /// Whether Go would accept `bytes` (our parser with Go's depth limit, numbers in double range).
    static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        guard let v = try? parse(bytes, maxDepth: JSONCanonical.goMaxDepth) else { return false }
        var stack = [v]
        while let top = stack.popLast() {
            switch top {
            case .number(let t): if !(Double(t)?.isFinite ?? false) { return false }
            case .array(let a): stack += a
            case .object(let o): stack += o.members.map(\.value)
            default: break
            }
        }
        return true
    }
}

/// The mantissa's digits without leading or trailing zeros ("0.00120e5" → "12").
func significantDigits(_ text: String) -> String {
    let mantissa = text.split(separator: "e")[0].filter(\.isNumber)
    return String(mantissa.drop { $0 == "0" }.reversed().drop { $0 == "0" }.reversed())
}
