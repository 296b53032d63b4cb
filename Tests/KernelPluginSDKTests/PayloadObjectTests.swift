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
