import Testing
@testable import KernelPluginSDK

@Suite struct DecimalTextTests {
    @Test(arguments: [
        "0", "-0", "1", "187.25", "187.2500", "0.000001", "-1.5", "1e5", "1E5", "1e+5", "1.8725e2", "2E-3",
        "007.5", "1e1000", "1e-1000", String(repeating: "9", count: Limits.numericText),
    ])
    func acceptsDecimals(text: String) {
        let d = DecimalText(text)
        #expect(d?.text == text, "text must be kept exactly")
        #expect(DecimalText.parse(text) != nil, "the comparing parser must agree with the validating scan")
    }

    @Test(arguments: [
        "", "-", "+1", ".5", "5.", "1.2.3", "12,5", "1e", "1e+", "e5", "1e1001", "1e-1001", "1e99999999999999999999",
        "NaN", "nan", "Infinity", "-Infinity", "inf", "0x10", " 1", "1 ", "1_000", "１", "1\u{0}",
        "--1", "1-", "1..2", String(repeating: "9", count: Limits.numericText + 1),
    ])
    func rejectsNonDecimals(text: String) {
        #expect(DecimalText(text) == nil, "\(text.prefix(40)) should be rejected")
        #expect(DecimalText.parse(text) == nil, "the comparing parser must agree with the validating scan")
    }

    @Test func readsJSONNumbersAndStringsOnly() throws {
        #expect(DecimalText(json: .number("1.50"))?.text == "1.50")
        #expect(DecimalText(json: .string("1.50"))?.text == "1.50")
        #expect(DecimalText(json: .string("abc")) == nil)
        #expect(DecimalText(json: .bool(true)) == nil)
        #expect(DecimalText(json: .null) == nil)
        #expect(DecimalText(json: .array([.number("1")])) == nil)
        let parsed = try JSONParser.parse(#"{"p":1.8725e2}"#)
        #expect(DecimalText(json: parsed["p"] ?? .null)?.text == "1.8725e2")
    }

    @Test func signs() throws {
        let zero = try #require(DecimalText("-0.000e7"))
        #expect(zero.isZero && !zero.isNegative && !zero.isPositive && zero.signum == 0)
        let neg = try #require(DecimalText("-0.0001"))
        #expect(neg.isNegative && neg.signum == -1)
        let pos = try #require(DecimalText("1e-1000"))
        #expect(pos.isPositive && !pos.isZero)
    }

    @Test(arguments: [
        ("1", "1.0", 0), ("1.0", "1", 0), ("100", "1e2", 0), ("0.05", "5e-2", 0), ("-0", "0", 0), ("007.50", "7.5", 0),
        ("99.999", "1e2", -1), ("1e2", "99.999", 1), ("101.0000001", "101", 1), ("-1", "1", -1), ("-2", "-1", -1),
        ("-1", "-2", 1), ("0", "-0.0001", 1), ("0.0001", "0", 1), ("10", "9", 1), ("9", "10", -1), ("0.1", "0.09", 1),
        ("187.2500", "187.25", 0), ("1e-1000", "0", 1), ("1e1000", "9e999", 1), ("12345678901234567890.5", "12345678901234567890.49", 1),
    ])
    func comparesExactly(a: String, b: String, expected: Int) throws {
        let x = try #require(DecimalText(a))
        let y = try #require(DecimalText(b))
        #expect(DecimalText.compare(x, y) == expected)
        #expect(DecimalText.compare(y, x) == -expected)
        #expect((x == y) == (expected == 0))
        #expect((x < y) == (expected < 0))
    }

    @Test func comparisonBeatsDoubleRounding() throws {
        // As Doubles these two are equal; as decimals they are not.
        let a = try #require(DecimalText("0.30000000000000001"))
        let b = try #require(DecimalText("0.3"))
        #expect(a > b)
    }

    @Test func fastComparisonAgreesWithTheReferenceParser() throws {
        let texts = [
            "0", "-0", "0.0", "1", "-1", "1.0", "10", "1e1", "0.1", "1e-1", "0.10", "01.00", "9.99", "10.01", "-10.01",
            "100", "99.9999", "1e2", "1.00e2", "0.001", "1e-3", "0.0010", "-0.001", "123.456", "123.4560", "1234.56e-1",
            "5", "5e0", "50e-1", "0.5e1", "7e1000", "7e-1000", "-7e-1000", "187.25", "187.2500", "1.8725e2",
        ]
        for a in texts {
            for b in texts {
                let x = try #require(DecimalText(a)), y = try #require(DecimalText(b))
                let p = try #require(DecimalText.parse(a)), q = try #require(DecimalText.parse(b))
                #expect(DecimalText.compare(x, y) == DecimalText.compareParsed(p, q), "\(a) vs \(b)")
            }
        }
    }
}
