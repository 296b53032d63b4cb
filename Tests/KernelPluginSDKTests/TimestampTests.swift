import Testing
@testable import KernelPluginSDK

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("1970-01-01T00:00:00.1Z", 100_000_000),
        ("1970-01-01T00:00:00.123456789Z", 123_456_789),
        ("1969-12-31T23:59:59.5Z", -500_000_000),
        ("2026-11-25T14:30:00Z", 1_795_617_000_000_000_000),
        ("2026-11-25T14:30:00.123456789Z", 1_795_617_000_123_456_789),
        ("2026-11-25T16:30:00+02:00", 1_795_617_000_000_000_000),
        ("2026-11-25T09:00:00-05:30", 1_795_617_000_000_000_000),
        ("2026-11-25T14:30:00-00:00", 1_795_617_000_000_000_000),
        ("2028-02-29T00:00:00Z", 1_835_395_200_000_000_000),
        ("2000-02-29T12:00:00Z", 951_825_600_000_000_000),
        ("2262-04-11T23:47:16.854775807Z", Int64.max),
        ("1677-09-21T00:12:43.145224192Z", Int64.min),
    ])
    func parsesValidTimestamps(text: String, expected: Int64) {
        #expect(Timestamp.parseRFC3339(text) == expected)
    }

    @Test(arguments: [
        "", "Z", "2026", "2026-11-25", "2026-11-25T14:30Z", "2026-11-25T14:30:00",
        "2026-11-25t14:30:00Z", "2026-11-25T14:30:00z", "2026-11-25 14:30:00Z", " 2026-11-25T14:30:00Z",
        "2026-11-25T14:30:00Z ", "2026-11-25T14:30:00Z\n", "2026-11-25T14:30:00.Z", "2026-11-25T14:30:00.1234567891Z",
        "2026-11-25T14:30:00,5Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z",
        "2026-11-31T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-11-25T24:00:00Z",
        "2026-11-25T23:60:00Z", "2026-12-31T23:59:60Z", "2026-11-25T14:30:00+24:00", "2026-11-25T14:30:00+05:60",
        "2026-11-25T14:30:00+05", "2026-11-25T14:30:00+0530", "2026-11-25T14:30:00+05:30Z", "+2026-11-25T14:30:00Z",
        "-002-11-25T14:30:00Z", "2026-1-25T14:30:00Z", "2026/11/25T14:30:00Z", "2026-11-25T14:30:00.12a4Z",
        "２０２６-11-25T14:30:00Z", "2026-11-25T14:30:00\u{0}Z", "2026-11-25T14:30:00.-1Z",
        "2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43.145224191Z", "9999-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z", String(repeating: "2", count: 10_000),
    ])
    func rejectsHostileTimestamps(text: String) {
        #expect(Timestamp.parseRFC3339(text) == nil, "\(text.prefix(40)) should be rejected")
    }

    @Test func formatIsTheInverseOfParse() {
        // A deterministic spread over the representable range, including before 1970.
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let ns = Int64(bitPattern: x)
            let text = Timestamp.formatRFC3339(unixNanos: ns)
            #expect(Timestamp.parseRFC3339(text) == ns, "\(ns) -> \(text)")
        }
    }

    @Test func formatsKnownInstants() {
        #expect(Timestamp.formatRFC3339(unixNanos: 0) == "1970-01-01T00:00:00.000000000Z")
        #expect(Timestamp.formatRFC3339(unixNanos: -1) == "1969-12-31T23:59:59.999999999Z")
        #expect(Timestamp.formatRFC3339(unixNanos: 1_795_617_000_123_456_789) == "2026-11-25T14:30:00.123456789Z")
    }

    @Test func parsesSubstringsAndBytes() {
        let line = "ts=2026-11-25T14:30:00Z;"
        let inner = line.dropFirst(3).dropLast()
        #expect(Timestamp.parseRFC3339(inner) == 1_795_617_000_000_000_000)
        let bytes = Array("2026-11-25T14:30:00Z".utf8)
        #expect(bytes.withUnsafeBytes { Timestamp.parseRFC3339(bytes: $0) } == 1_795_617_000_000_000_000)
    }
}
