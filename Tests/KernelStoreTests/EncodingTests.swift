import KernelPlugins
import KernelPostgres
@testable import KernelStore
import Testing

@Suite("Store encoding")
struct EncodingTests {
    /// What `PGBinaryCopyEncoder` produces for one numeric field (length prefix included).
    static func reference(_ text: String) throws -> [UInt8] {
        var encoder = PGBinaryCopyEncoder()
        _ = encoder.takeBytes()
        try encoder.appendNumeric(text)
        return encoder.takeBytes()
    }

    static func fast(_ text: String) throws -> [UInt8] {
        var buffer = TupleBuffer()
        try buffer.numeric(text)
        return Array(buffer.bytes)
    }

    @Test("numeric bytes equal the reference encoder's", arguments: [
        "0", "-0", "0.00", "-0.000", "000.000", "187.2500", "0.0001", "0.00001", "1", "10", "100", "1000", "10000",
        "99999999", "123456789.987654321", "-42.5", ".5", "5.", "-.75", "0000123.4500", "1000000000000000000000",
        "0.000000000000000000001", "12345678901234567890.123", "7", "-9999.9999", "10000.0001",
    ])
    func numericMatchesReference(text: String) throws {
        #expect(try EncodingTests.fast(text) == EncodingTests.reference(text))
    }

    @Test("numeric: random decimals match the reference encoder")
    func numericRandom() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let intDigits = Int.random(in: 0...25, using: &generator)
            let fracDigits = Int.random(in: 0...25, using: &generator)
            guard intDigits + fracDigits > 0 else { continue }
            // Bias towards zeros so leading/trailing zero stripping is exercised.
            func digit() -> Character { Bool.random() ? "0" : Character(String(Int.random(in: 0...9))) }
            var text = Bool.random() ? "-" : ""
            text += String((0..<intDigits).map { _ in digit() })
            if fracDigits > 0 || Bool.random() { text += "." + String((0..<fracDigits).map { _ in digit() }) }
            #expect(try EncodingTests.fast(text) == EncodingTests.reference(text), "\(text)")
        }
    }

    @Test("numeric: shapes the fast path leaves alone still encode or fail as the reference does", arguments: [
        "1e5", "1.5E-3", "NaN", "-Infinity", "+3", "", "-", ".", "1.2.3", "12,5", " 1", "1 ", "0x10", "١٢",
    ])
    func numericSlowShapes(text: String) throws {
        let expected = try? EncodingTests.reference(text)
        let actual = try? EncodingTests.fast(text)
        #expect(actual == expected)
    }

    @Test("UTC months from microseconds, boundaries and before 1970")
    func months() {
        #expect(UTCMonth(unixMicros: 0) == UTCMonth(year: 1970, month: 1))
        #expect(UTCMonth(unixMicros: -1) == UTCMonth(year: 1969, month: 12))
        #expect(UTCMonth(unixMicros: 1_580_515_200_000_000) == UTCMonth(year: 2020, month: 2))
        #expect(UTCMonth(unixMicros: 1_580_515_199_999_999) == UTCMonth(year: 2020, month: 1))
        #expect(UTCMonth(unixMicros: 951_782_400_000_000) == UTCMonth(year: 2000, month: 2))   // 2000-02-29
        #expect(UTCMonth(unixMicros: 951_868_800_000_000) == UTCMonth(year: 2000, month: 3))   // 2000-03-01
        #expect(UTCMonth(unixMicros: 253_402_300_799_000_000) == UTCMonth(year: 9999, month: 12))
        #expect(UTCMonth(year: 2020, month: 2).firstDay == "2020-02-01")
        #expect(UTCMonth(year: 999, month: 11).firstDay == "0999-11-01")
    }

    @Test("array literals quote every element")
    func arrayLiteral() {
        #expect(TagDictionary.arrayLiteral([]) == "{}")
        #expect(TagDictionary.arrayLiteral(["a", "NULL", ""]) == #"{"a","NULL",""}"#)
        #expect(TagDictionary.arrayLiteral([#"q"uote"#, #"back\slash"#, "{,}"]) == #"{"q\"uote","back\\slash","{,}"}"#)
    }

    @Test("the tag cache folds ASCII case only")
    func tagKeyFolding() {
        #expect(TagDictionary.Key(.init(key: "Core.Symbol", value: "AAPL")) == TagDictionary.Key(.init(key: "core.symbol", value: "aapl")))
        #expect(TagDictionary.Key(.init(key: "k", value: "É")) != TagDictionary.Key(.init(key: "k", value: "é")))
    }

    @Test("tuples keep their bytes across growth, and a truncated tuple leaves nothing behind")
    func tupleBufferGrowsAndTruncates() throws {
        var buffer = TupleBuffer(reserving: 8)
        var expected: [UInt8] = []
        func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        for i in 0..<500 {
            buffer.beginTuple(fieldCount: 3)
            buffer.int8(Int64(i) * 1_000_003)
            buffer.text("row \(i)")
            buffer.bool(i % 2 == 0)
            expected += be(Int16(3)) + be(Int32(8)) + be(Int64(i) * 1_000_003)
            expected += be(Int32(Int32("row \(i)".utf8.count))) + Array("row \(i)".utf8)
            expected += be(Int32(1)) + [i % 2 == 0 ? 1 : 0]
            if i % 7 == 0 {
                // A tuple abandoned half-way, as when a value turns out not to be encodable.
                let mark = buffer.count
                buffer.beginTuple(fieldCount: 2)
                buffer.jsonb("{\"dropped\":true}")
                buffer.truncate(to: mark)
            }
        }
        #expect(Array(buffer.bytes) == expected)
        #expect(buffer.count == expected.count)
    }
}
