import Testing
@testable import KernelPluginSDK

@Suite struct PayloadObjectTests {
    func object(_ json: String) throws -> PayloadObject {
        PayloadObject(try #require(try JSONParser.parse(json).objectValue))
    }

    /// The `NormalizeError` message `body` throws, nil if it does not throw.
    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as NormalizeError {
            return error.message
        } catch {
            return "unexpected error \(error)"
        }
    }

    @Test func readsTypedFields() throws {
        let p = try object(#"{"s":"x","d":"1.50","n":12,"t":"2026-11-25T14:30:00Z","a":[1],"nul":null,"e":"buy"}"#)
        #expect(try p.requiredString("s") == "x")
        #expect(try p.requiredDecimal("d", .positive).text == "1.50")
        #expect(try p.requiredInt64("n") == 12)
        #expect(try p.requiredTimestamp("t") == 1_795_617_000_000_000_000)
        #expect(try p.requiredArray("a").count == 1)
        #expect(try p.optionalString("nul") == nil)
        #expect(try p.optionalString("absent") == nil)
        #expect(try p.optionalDecimal("nul") == nil)
        #expect(try p.optionalEnum("nul", allowed: ["buy"], default: "unknown") == "unknown")
        #expect(try p.requiredEnum("e", allowed: ["buy", "sell"]) == "buy")
    }

    @Test func enumsCompareBytesNotCanonicalEquivalence() throws {
        // U+212A KELVIN SIGN is canonically equivalent to "K": Swift's == says equal, Postgres does not.
        let p = try object(#"{"unit":"\u212A"}"#)
        #expect("\u{212A}" == "K")
        #expect(throws: NormalizeError.self) { try p.requiredEnum("unit", allowed: ["K"]) }
    }

    @Test func lastDuplicateWinsAsInJSONB() throws {
        let p = try object(#"{"price":1,"price":"2"}"#)
        #expect(try p.requiredDecimal("price").text == "2")
    }

    @Test func errorsNameTheField() throws {
        let p = try object(#"{"s":5,"e":"","d":true,"x":"12,5","neg":-1,"zero":0,"f":1.5,"big":9223372036854775808,"t":"yesterday","en":"short","nul":null}"#)
        #expect(message { _ = try p.requiredString("missing") } == "missing required field 'missing'")
        #expect(message { _ = try p.requiredString("nul") } == "field 'nul' must not be null")
        #expect(message { _ = try p.requiredString("s") } == "field 's' must be a string, got number")
        #expect(message { _ = try p.requiredString("e") } == "field 'e' must not be empty")
        #expect(message { _ = try p.requiredDecimal("d") } == "field 'd' must be a decimal number or decimal string, got boolean")
        #expect(message { _ = try p.requiredDecimal("x") } == #"field 'x' is not a decimal: "12,5""#)
        #expect(message { _ = try p.requiredDecimal("neg", .nonNegative) } == "field 'neg' must be >= 0, got -1")
        #expect(message { _ = try p.requiredDecimal("zero", .positive) } == "field 'zero' must be > 0, got 0")
        #expect(message { _ = try p.requiredInt64("f") } == "field 'f' must be an integer, got 1.5")
        #expect(message { _ = try p.requiredInt64("big") } == "field 'big' must be an integer within 64 bits, got 9223372036854775808")
        #expect(message { _ = try p.requiredInt64("neg", minimum: 0) } == "field 'neg' must be >= 0, got -1")
        #expect(message { _ = try p.requiredTimestamp("t") }?.hasPrefix("field 't' must be an RFC 3339 timestamp") == true)
        #expect(message { _ = try p.requiredEnum("en", allowed: ["buy", "sell"]) } == #"field 'en' must be one of buy|sell, got "short""#)
        #expect(message { _ = try p.requiredArray("s") } == "field 's' must be an array, got number")
    }

    @Test func clipsHostileValuesInMessages() throws {
        let long = String(repeating: "x", count: 10_000)
        let p = try object(#"{"d":"\#(long)"}"#)
        let m = try #require(message { _ = try p.requiredDecimal("d") })
        #expect(m.utf8.count < 120)
    }
}

/// `Event.payloadObject()` scans the payload and decodes members on demand; every answer must be
/// the one the parsed tree gives, hostile inputs included.
@Suite struct ScannedPayloadObjectTests {
    static let corpus: [[UInt8]] = [
        #"{"venue":"XNAS","symbol":"AAPL","price":"187.25","size":100,"side":"buy","trade_id":null}"#,
        #"{"a":1,"a":"second wins","b":true,"c":false,"d":null,"e":[1,{"x":[]}],"f":{"g":{"h":"i"}}}"#,
        #"{"esc\u0061ped":"tab\there \"quoted\" \\ \/ \u00e9 \ud83d\ude80","plain":"é"}"#,
        #"{"n":-0.0,"m":1e308,"k":-12345678901234567890,"z":0}"#,
        #"  {  "spaced" :  "value"  ,  "x" : [ ]  }  "#,
        #"{"":"empty key","unit":"\u212A","K":"k"}"#,
        #"{}"#,
    ].map { Array($0.utf8) } + [
        // Invalid UTF-8 inside a string, repaired the same way by both paths.
        Array(#"{"bad":""#.utf8) + [0xFF, 0xC3, 0x28] + Array(#"","ok":"x"}"#.utf8),
        Array(#"{"bad\#u{00}":"raw control byte"}"#.utf8),
    ]
    static let keys = ["venue", "symbol", "price", "size", "side", "trade_id", "a", "b", "c", "d", "e", "f", "escaped",
                       "plain", "n", "m", "k", "z", "spaced", "x", "", "unit", "K", "bad", "ok", "missing"]

    func both(_ bytes: [UInt8]) throws -> (scanned: PayloadObject?, tree: PayloadObject?) {
        let scanned = bytes.withUnsafeBytes { PayloadObject(scanning: $0, maxDepth: 64) }
        let tree = (try? JSONParser.parse(bytes))?.objectValue.map { PayloadObject($0) }
        return (scanned, tree)
    }

    @Test("members, typed accessors and errors match the tree", arguments: 0..<corpus.count)
    func sameAnswers(index: Int) throws {
        let (scanned, tree) = try both(Self.corpus[index])
        // Both accept the input or both refuse it (a raw control byte in a key, for one).
        #expect((scanned == nil) == (tree == nil))
        guard let s = scanned, let t = tree else { return }
        #expect(s.object == t.object)
        for key in Self.keys {
            #expect(s[key] == t[key], "\(key)")
            #expect(s.present(key) == t.present(key), "\(key)")
            #expect(result { try s.requiredString(key) } == result { try t.requiredString(key) }, "\(key)")
            #expect(result { try s.optionalDecimal(key)?.text } == result { try t.optionalDecimal(key)?.text }, "\(key)")
            #expect(result { try s.optionalInt64(key) } == result { try t.optionalInt64(key) }, "\(key)")
            #expect(result { try s.requiredArray(key).count } == result { try t.requiredArray(key).count }, "\(key)")
            #expect(result { try s.optionalEnum(key, allowed: ["buy", "K"], default: "none") }
                    == result { try t.optionalEnum(key, allowed: ["buy", "K"], default: "none") }, "\(key)")
        }
    }

    @Test("not an object, not well-formed, or too deep: no scan (the parser reports why)", arguments: [
        "[1,2]", "\"s\"", "12", "null", "", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{'a':1}",
        String(repeating: "{\"a\":", count: 70) + "1" + String(repeating: "}", count: 70),
    ])
    func refused(text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { PayloadObject(scanning: $0, maxDepth: 64) } == nil)
    }

    @Test("the scanned value owns its bytes")
    func ownsBytes() throws {
        var bytes = Array(#"{"symbol":"AAPL"}"#.utf8)
        let p = try #require(bytes.withUnsafeBytes { PayloadObject(scanning: $0, maxDepth: 64) })
        for i in bytes.indices { bytes[i] = 0x20 }
        #expect(try p.requiredString("symbol") == "AAPL")
    }

    /// The value or the error message, for comparing two paths.
    func result<T: Equatable>(_ body: () throws -> T) -> String {
        do { return "ok \(try body())" } catch let e as NormalizeError { return "error \(e.message)" } catch { return "other \(error)" }
    }
}
