import KernelPlugins
import Logging
import Testing

/// What the host enforces on a plugin's output, driven through the test plugin's "mode" member.
@Suite("Plugin output contract")
struct OutputContractTests {
    static let instance: PluginInstance = {
        let dir = try! TestPluginBuilder.makeTempDir()
        let path = try! TestPluginBuilder.build("libtick.so", in: dir)
        return try! PluginLoader.load(path: path).instantiate(logger: Logger(label: "t"))
    }()

    func run(_ payload: String, version: UInt32 = 1) -> Result<NormalizedEvent, NormalizeFailure> {
        Self.instance.normalize(EventInput(
            family: "tick", schemaVersion: version, eventID: "0190f5c2-7b7e-7000-8000-000000000001",
            subjectID: "0190f5c2-7b7e-7000-8000-0000000000aa", tsUnixNanos: 1_764_000_000_000_000_000,
            payload: Array(payload.utf8)))
    }

    func failure(_ payload: String) -> NormalizeFailure? {
        if case .failure(let f) = run(payload) { return f }
        return nil
    }

    @Test func goodEventProducesTypedRowTagsAndEventTime() throws {
        let out = try run(#"{"price":"187.2500","mode":"ok"}"#).get()
        #expect(out.rows == [[.numeric("187.2500"), .text("buy"), .null, .null]])
        #expect(out.tags == [Tag(key: "core.symbol", value: "TEST")])
        #expect(out.eventTimeNanos == Int64(1_764_000_000_000_000_000) - 1000)
        #expect(out.payloadJSON == nil, "payload kept as published")
    }

    @Test func numbersPassThroughAsExactText() throws {
        let out = try run(#"{"price":0.000000012345678901234567890}"#).get()
        #expect(out.rows[0][0] == .numeric("0.000000012345678901234567890"))
    }

    @Test func pluginRefusalCarriesItsMessage() {
        let f = failure(#"{"price":1,"mode":"fail"}"#)
        #expect(f?.kind == .invalidPayload)
        #expect(f?.message == "payload refused on purpose")
        #expect(failure(#"{"mode":"ok"}"#)?.message == "missing field: price")
    }

    @Test func contractViolationsFailTheEvent() {
        #expect(failure(#"{"price":1,"mode":"wrong_type"}"#)?.message.contains("wrong setter") == true)
        #expect(failure(#"{"price":1,"mode":"missing_required"}"#)?.message.contains("price is required") == true)
        #expect(failure(#"{"price":1,"mode":"bad_enum"}"#)?.message.contains("not one of buy|sell") == true)
        #expect(failure(#"{"price":1,"mode":"bad_index"}"#)?.message.contains("out of range") == true)
        #expect(failure(#"{"price":1,"mode":"int4_overflow"}"#)?.message.contains("does not fit") == true)
        #expect(failure(#"{"price":1,"mode":"bad_numeric"}"#)?.message.contains("not a decimal") == true)
        #expect(failure(#"{"price":1,"mode":"three_rows"}"#)?.message.contains("max_rows_per_event") == true)
        #expect(failure(#"{"price":1,"mode":"bad_payload"}"#)?.message.contains("not a JSON object") == true)
        #expect(failure(#"{"price":"1e5x"}"#)?.message.contains("not a decimal") == true)
        for f in [failure(#"{"price":1,"mode":"wrong_type"}"#), failure(#"{"price":1,"mode":"bad_enum"}"#)] {
            #expect(f?.kind == .badOutput)
        }
    }

    @Test func multipleRowsAndReplacedPayload() throws {
        let out = try run(#"{"price":"2","mode":"two_rows"}"#).get()
        #expect(out.rows.count == 2)
        #expect(out.rows[1][1] == .text("sell"))
        #expect(try run(#"{"price":"2","mode":"payload"}"#).get().payloadJSON == #"{"normalized":true}"#)
    }

    @Test func hostileJSONNeverCrashesTheHostServices() {
        // The plugin looks members up with the host's json_field on whatever bytes arrive.
        for payload in ["", "{", "{\"price\":", "{\"price\":\"1", "[1,2]", "null", "{\"price\":1,,}",
                        String(repeating: "[", count: 100_000), "{\"price\":\"\u{0}\"}", "\u{FF}\u{FE}"] {
            if case .success(let out) = run(payload) {
                // Only a well-formed payload with a price may succeed.
                #expect(out.rows.count == 1, "\(payload.prefix(20))")
            }
        }
    }

    @Test func decimalGrammar() {
        let institutions = ["0", "-0", "1", "187.25", "0.5", "-12.000", "1e-7", "1E+21", "123456789012345678901234567890.123"]
        for s in institutions { #expect(ColumnValue.numeric(s).textValue == s) }
    }
}
