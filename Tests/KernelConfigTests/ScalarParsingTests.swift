@testable import KernelConfig
import Testing
import KernelCrypto

@Suite("Scalars: sizes, integers, addresses, suggestions")
struct ScalarParsingTests {
    @Test("sizes with and without units", arguments: [
        ("1048576", 1_048_576), ("0", 0), ("512MiB", 512 << 20), ("10GiB", 10 << 30), ("10 GiB", 10 << 30),
        ("64mib", 64 << 20), ("1KB", 1000), ("1kib", 1024), ("2MB", 2_000_000), ("3GB", 3_000_000_000),
        ("1TiB", 1 << 40), ("1TB", 1_000_000_000_000), ("7B", 7), (" 5 KiB ", 5120),
    ])
    func sizes(text: String, expected: Int) {
        #expect(ScalarParsing.size(text) == expected)
    }

    @Test("malformed sizes are refused", arguments: [
        "", "MiB", "1.5GiB", "-1", "-1MiB", "10 parsecs", "10GiBs", "1e9", "0x10", "9999999999999999999999",
        "5000TiB", "1 2 KiB", "１０GiB",
    ])
    func badSizes(text: String) {
        #expect(ScalarParsing.size(text) == nil)
    }

    @Test("integers", arguments: [("0", 0), ("+5", 5), ("-7", -7), ("007", 7), (" 42 ", 42)])
    func integers(text: String, expected: Int) {
        #expect(ScalarParsing.integer(text) == expected)
    }

    @Test("non-integers", arguments: ["", "-", "1.0", "1e3", "0x1F", "1_000", "99999999999999999999", "٣"])
    func nonIntegers(text: String) {
        #expect(ScalarParsing.integer(text) == nil)
    }

    @Test("host:port parsing")
    func hostPort() {
        #expect(HostPort.parse(":7600", allowEmptyHost: true, allowPortZero: true) == HostPort(host: "", port: 7600))
        #expect(HostPort.parse(":7600", allowEmptyHost: false, allowPortZero: true) == nil)
        #expect(HostPort.parse("[::1]:1", allowEmptyHost: false, allowPortZero: false) == HostPort(host: "::1", port: 1))
        #expect(HostPort.parse("redis.internal:6379", allowEmptyHost: false, allowPortZero: false)?.host
            == "redis.internal")
        #expect(HostPort.parse("h:0", allowEmptyHost: false, allowPortZero: false) == nil)
        #expect(HostPort.parse("h:00000080", allowEmptyHost: false, allowPortZero: false) == nil)
        #expect(HostPort.parse("[::1:1", allowEmptyHost: false, allowPortZero: false) == nil)
        #expect(HostPort.parse("h/x:1", allowEmptyHost: false, allowPortZero: false) == nil)
    }

    @Test("did-you-mean picks the closest key within a small distance")
    func suggestions() {
        let keys = KernelConfig.Redis.keys
        #expect(Suggestion.closest(to: "read_cout", in: keys) == "read_count")
        #expect(Suggestion.closest(to: "READ_COUNT", in: keys) == "read_count")
        #expect(Suggestion.closest(to: "dlq", in: keys) == "dlq_stream")
        #expect(Suggestion.closest(to: "zzzzzzzz", in: keys) == nil)
        #expect(Suggestion.closest(to: String(repeating: "a", count: 10_000), in: keys) == nil)
        #expect(Suggestion.editDistance(Array("kitten".unicodeScalars), Array("sitting".unicodeScalars)) == 3)
        #expect(Suggestion.editDistance(Array("redsi".unicodeScalars), Array("redis".unicodeScalars)) == 1)
        #expect(Suggestion.closest(to: "warning", in: ["debug", "info", "warn", "error"]) == "warn")
    }

    @Test("base64 length check")
    func base64() {
        #expect(Base64.standardDecodedCount("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo") == 32)
        #expect(Base64.standardDecodedCount("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=") == 32)
        #expect(Base64.standardDecodedCount(Fixture.privateKey) == 64)
        #expect(Base64.standardDecodedCount("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") == nil)
        #expect(Base64.standardDecodedCount("") == 0)   // refused by the callers as the wrong length
        #expect(Base64.standardDecodedCount("A") == nil)
        #expect(Base64.standardDecodedCount("AA===") == nil)
    }
}
