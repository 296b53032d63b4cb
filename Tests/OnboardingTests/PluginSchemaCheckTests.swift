import KernelJSON
@testable import KernelOnboarding
@testable import KernelPlugins
import Testing

/// Families declared the way the example plugins declare them (Plugins/Trade, Book, Quote).
enum PluginFamilies {
    static let tradeSchema = """
        {"type":"object","required":["venue","symbol","price","size"],"properties":{\
        "venue":{"type":"string"},"symbol":{"type":"string"},\
        "price":{"type":["number","string"]},"size":{"type":["number","string"]},\
        "side":{"type":"string","enum":["buy","sell","unknown"]},\
        "trade_id":{"type":"string"},"exchange_ts":{"type":"string"}}}
        """
    static let bookSchema = """
        {"type":"object","required":["venue","symbol","type","bids","asks"],"properties":{\
        "venue":{"type":"string"},"symbol":{"type":"string"},\
        "type":{"type":"string","enum":["snapshot","delta"]},"sequence":{"type":"integer"},\
        "bids":{"type":"array","items":{"type":"array","items":{"type":["number","string"]}}},\
        "asks":{"type":"array","items":{"type":"array","items":{"type":["number","string"]}}},\
        "exchange_ts":{"type":"string"}}}
        """
    static let quoteSchema = """
        {"type":"object","required":["venue","symbol"],"properties":{\
        "venue":{"type":"string"},"symbol":{"type":"string"},\
        "bid_price":{"type":["number","string","null"]},"ask_price":{"type":["number","string","null"]}}}
        """

    static func family(_ name: String, _ versions: ClosedRange<UInt32>, schema: String?) -> FamilyDescriptor {
        FamilyDescriptor(name: name, versions: versions, payloadSchemaJSON: schema, columns: [], maxRowsPerEvent: 1)
    }

    static let trade = family("trade", 1...1, schema: tradeSchema)
    static let book = family("book", 1...1, schema: bookSchema)
    static let quote = family("quote", 1...1, schema: quoteSchema)

    /// A producer schema body that matches the trade plugin.
    static let goodTradeBody = """
        {"type":"object","required":["venue","symbol","price","size"],"properties":{\
        "venue":{"type":"string"},"symbol":{"type":"string"},"price":{"type":"number"},\
        "size":{"type":"string"},"side":{"type":"string","enum":["buy","sell"]}}}
        """
}

@Suite struct PluginSchemaCheckTests {
    let check = PluginSchemaCheck(families: { [PluginFamilies.trade, PluginFamilies.book, PluginFamilies.quote] })

    func verdict(_ family: String, _ version: Int = 1, _ body: String) throws -> PluginSchemaCheck.Verdict {
        check.check(family: family, version: version, body: try JSONParser.parse(body))
    }

    func details(_ v: PluginSchemaCheck.Verdict) -> String? {
        if case .refused(let d) = v { return d }
        return nil
    }

    @Test func familyWithoutPluginIsGeneric() throws {
        #expect(try verdict("weather", 1, #""anything at all""#) == .generic)
        #expect(try verdict("Trade", 1, "{}") == .generic) // names compare exactly
        #expect(PluginSchemaCheck.none.check(family: "trade", version: 1, body: .null) == .generic)
        #expect(!check.serves(family: "weather"))
        #expect(check.serves(family: "book"))
    }

    @Test func matchingBodyIsAccepted() throws {
        #expect(try verdict("trade", 1, PluginFamilies.goodTradeBody) == .accepted)
        // The plugin's own description is, of course, accepted.
        #expect(try verdict("trade", 1, PluginFamilies.tradeSchema) == .accepted)
        #expect(try verdict("book", 1, PluginFamilies.bookSchema) == .accepted)
        // Types not stated are not contradicted; extra properties and keywords are ignored.
        #expect(try verdict("quote", 1, #"{"properties":{"venue":{},"symbol":{"description":"x"},"extra":{"type":"boolean"}},"title":"q"}"#) == .accepted)
        // integer fits number; null fits where the plugin allows null.
        #expect(try verdict("trade", 1, #"{"properties":{"venue":{},"symbol":{},"price":{"type":"integer"},"size":{"type":["integer","string"]}}}"#) == .accepted)
        #expect(try verdict("quote", 1, #"{"type":"object","properties":{"venue":{},"symbol":{},"bid_price":{"type":["string","null"]}}}"#) == .accepted)
    }

    @Test func versionOutsideThePluginRangeIsRefused() throws {
        let d = details(try verdict("trade", 2, PluginFamilies.goodTradeBody))
        #expect(d == "schema version 2 of family trade is not served by the loaded plugin (versions 1...1)")
        // With two plugins serving disjoint ranges, the one covering the version is used.
        let two = PluginSchemaCheck(families: {
            [PluginFamilies.trade, PluginFamilies.family("trade", 2...3, schema: nil)]
        })
        #expect(two.check(family: "trade", version: 2, body: .string("free form")) == .accepted)
        #expect(two.check(family: "trade", version: 1, body: .string("free form")) != .accepted)
        #expect(details(two.check(family: "trade", version: 4, body: .null))?.hasSuffix("(versions 1...1, 2...3)") == true)
        #expect(details(two.check(family: "trade", version: 0, body: .null)) != nil)
    }

    @Test func missingRequiredPropertyIsRefused() throws {
        let d = details(try verdict("trade", 1, #"{"type":"object","properties":{"venue":{"type":"string"},"symbol":{"type":"string"},"size":{"type":"number"}}}"#))
        #expect(d == "schema_body does not match plugin family trade v1: price: required by the plugin but not declared in properties")
        // A body that is not a JSON Schema declares nothing.
        let free = details(try verdict("trade", 1, #"{"fields":["venue","symbol","price","size"]}"#))
        #expect(free?.contains("venue: required by the plugin") == true)
        #expect(free?.contains("size: required by the plugin") == true)
    }

    @Test func incompatibleTypeIsRefused() throws {
        let d = details(try verdict("trade", 1, #"{"properties":{"venue":{"type":"string"},"symbol":{"type":"string"},"price":{"type":"boolean"},"size":{"type":"number"}}}"#))
        #expect(d == #"schema_body does not match plugin family trade v1: price: type "boolean" is not accepted (plugin: number, string)"#)
        // number does not fit integer.
        let seq = details(try verdict("book", 1, #"{"properties":{"venue":{},"symbol":{},"type":{},"bids":{},"asks":{},"sequence":{"type":"number"}}}"#))
        #expect(seq?.contains(#"sequence: type "number" is not accepted (plugin: integer)"#) == true)
        // Top level must be an object.
        let top = details(try verdict("trade", 1, #"{"type":"array"}"#))
        #expect(top?.contains(#"schema: type "array" is not accepted (plugin: object)"#) == true)
        // A malformed type keyword is named.
        let bad = details(try verdict("quote", 1, #"{"type":5,"properties":{"venue":{},"symbol":{}}}"#))
        #expect(bad?.contains("schema: type must be a string or an array of strings") == true)
    }

    @Test func enumMustBeASubset() throws {
        let d = details(try verdict("trade", 1, #"{"properties":{"venue":{},"symbol":{},"price":{},"size":{},"side":{"enum":["buy","short"]}}}"#))
        #expect(d == #"schema_body does not match plugin family trade v1: side: enum value "short" is not accepted (plugin: "buy", "sell", "unknown")"#)
        let notArray = details(try verdict("trade", 1, #"{"properties":{"venue":{},"symbol":{},"price":{},"size":{},"side":{"enum":"buy"}}}"#))
        #expect(notArray?.hasSuffix("side: enum must be an array") == true)
    }

    @Test func arrayItemsAreComparedRecursively() throws {
        let body = #"{"properties":{"venue":{},"symbol":{},"type":{},"asks":{},"bids":{"type":"array","items":{"type":"array","items":{"type":"boolean"}}}}}"#
        let d = details(try verdict("book", 1, body))
        #expect(d?.hasSuffix(#"bids[][]: type "boolean" is not accepted (plugin: number, string)"#) == true)
    }

    @Test func nonObjectBodyIsRefusedForPluginFamilies() throws {
        #expect(details(try verdict("trade", 1, #""{\"type\":\"object\"}""#))
            == "schema_body does not match plugin family trade v1: schema: expected a JSON Schema object, got a string")
        #expect(details(try verdict("trade", 1, "[]"))?.hasSuffix("got an array") == true)
        #expect(details(try verdict("trade", 1, #"{"properties":[]}"#))?.contains("schema: properties must be an object") == true)
        // A nested property schema that is not an object.
        #expect(details(try verdict("quote", 1, #"{"properties":{"venue":"string","symbol":{}}}"#))?
            .contains("venue: expected a JSON Schema object, got a string") == true)
    }

    @Test func pluginWithoutDescriptionAcceptsAnyBody() throws {
        let plain = PluginSchemaCheck(families: { [PluginFamilies.family("tick", 1...5, schema: nil)] })
        #expect(plain.check(family: "tick", version: 3, body: .string("whatever")) == .accepted)
        // A description that is not a JSON object (the loader refuses those) is treated as absent.
        let odd = PluginSchemaCheck(families: { [PluginFamilies.family("tick", 1...1, schema: "[1,2")] })
        #expect(odd.check(family: "tick", version: 1, body: .null) == .accepted)
    }

    @Test func problemsAreCappedAndBodyTextIsCut() throws {
        // Nothing declared at all: five problems, then an ellipsis.
        let d = try #require(details(try verdict("book", 1, #"{"type":"string"}"#)))
        #expect(d.components(separatedBy: "; ").count == PluginSchemaMatcher.maxProblems + 1)
        #expect(d.hasSuffix("; …"))
        // A huge enum value is quoted back cut short.
        let long = String(repeating: "z", count: 100_000)
        let body = #"{"properties":{"venue":{},"symbol":{},"price":{},"size":{},"side":{"enum":[""# + long + #""]}}}"#
        let cut = try #require(details(try verdict("trade", 1, body)))
        #expect(cut.utf8.count < 400)
        // Thousands of bad enum values still give a bounded answer, quickly.
        let many = (0..<50_000).map { "\"v\($0)\"" }.joined(separator: ",")
        let wide = try #require(details(try verdict("trade", 1, #"{"properties":{"venue":{},"symbol":{},"price":{},"size":{},"side":{"enum":["# + many + "]}}}")))
        #expect(wide.utf8.count < 2_000)
    }

    @Test func hostileBodiesNeverCrash() throws {
        // As deep as the parser allows, on a path the plugin also describes and on one it does not.
        let depth = 63
        let deepItems = String(repeating: #"{"items":"#, count: depth) + "{}" + String(repeating: "}", count: depth)
        _ = check.check(family: "book", version: 1, body: try JSONParser.parse(deepItems))
        let deepProps = String(repeating: #"{"properties":{"bids":"#, count: 31) + "{}" + String(repeating: "}}", count: 31)
        _ = check.check(family: "book", version: 1, body: try JSONParser.parse(deepProps))
        // Hand-built, deeper than any parser output.
        var value = JSONValue.object(JSONObject())
        for _ in 0..<2_000 { value = .object(JSONObject([(key: "items", value: value), (key: "type", value: .string("array"))])) }
        let selfSimilar = PluginSchemaCheck(families: { [PluginFamilies.family("nest", 1...1, schema: #"{"type":"array","items":{"type":"array","items":{"type":"array"}}}"#)] })
        #expect(selfSimilar.check(family: "nest", version: 1, body: value) == .accepted)
        // Huge version numbers.
        #expect(details(check.check(family: "trade", version: Int.max, body: .null)) != nil)
    }
}
