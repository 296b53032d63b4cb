import Testing
@testable import KernelPostgres

@Suite("numeric binary encoding")
struct PGNumericTests {
    @Test("known encodings")
    func known() throws {
        // 12345.678 → digits [1, 2345, 6780], weight 1, dscale 3
        #expect(try PGNumeric(parsing: "12345.678") == PGNumeric(weight: 1, sign: PGNumeric.positive, dscale: 3, digits: [1, 2345, 6780]))
        #expect(try PGNumeric(parsing: "0") == PGNumeric(weight: 0, sign: PGNumeric.positive, dscale: 0, digits: []))
        #expect(try PGNumeric(parsing: "-0.00") == PGNumeric(weight: 0, sign: PGNumeric.positive, dscale: 2, digits: []))
        #expect(try PGNumeric(parsing: "-1") == PGNumeric(weight: 0, sign: PGNumeric.negative, dscale: 0, digits: [1]))
        #expect(try PGNumeric(parsing: "10000") == PGNumeric(weight: 1, sign: PGNumeric.positive, dscale: 0, digits: [1]))
        #expect(try PGNumeric(parsing: "0.0001") == PGNumeric(weight: -1, sign: PGNumeric.positive, dscale: 4, digits: [1]))
        #expect(try PGNumeric(parsing: "1e-7") == PGNumeric(weight: -2, sign: PGNumeric.positive, dscale: 7, digits: [10]))
        #expect(try PGNumeric(parsing: "1.50") == PGNumeric(weight: 0, sign: PGNumeric.positive, dscale: 2, digits: [1, 5000]))
        #expect(try PGNumeric(parsing: "1.5E+3") == PGNumeric(weight: 0, sign: PGNumeric.positive, dscale: 0, digits: [1500]))
        #expect(try PGNumeric(parsing: "NaN").sign == PGNumeric.nan)
        #expect(try PGNumeric(parsing: "-Infinity").sign == PGNumeric.negativeInfinity)
    }

    @Test("wire bytes are big-endian header then digits")
    func wire() throws {
        let bytes = try PGNumeric(parsing: "-12345.678").wireBytes
        #expect(bytes == [0, 3, 0, 1, 0x40, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1A, 0x7C])
    }

    @Test("hostile inputs are refused", arguments: [
        "", "-", "+", ".", "1.2.3", "1e", "1e+", "1ee5", "0x10", " 1", "1 ", "1,5", "١٢", "1e99999999999",
        "--1", "nan1", "Infinityx", "1e-", "e5", "1_000", "½",
    ])
    func hostile(text: String) {
        #expect(throws: PGError.self) { try PGNumeric(parsing: text) }
    }

    @Test("refusals are data errors with a reason code")
    func refusalKind() {
        let error = #expect(throws: PGError.self) { try PGNumeric(parsing: "abc") }
        #expect(error?.kind == .data)
        #expect(error?.reasonCode == "pg_bad_numeric")
    }

    @Test("uuid parsing accepts Postgres spellings and refuses junk")
    func uuid() throws {
        let expected: [UInt8] = [0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11]
        #expect(try PGBinaryCopyEncoder.parseUUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") == expected)
        #expect(try PGBinaryCopyEncoder.parseUUID("A0EEBC999C0B4EF8BB6D6BB9BD380A11") == expected)
        #expect(try PGBinaryCopyEncoder.parseUUID("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}") == expected)
        for bad in ["", "a0eebc99", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
                    "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99 9c0b 4ef8 bb6d 6bb9bd380a11"] {
            #expect(throws: PGError.self) { try PGBinaryCopyEncoder.parseUUID(bad) }
        }
    }
}
