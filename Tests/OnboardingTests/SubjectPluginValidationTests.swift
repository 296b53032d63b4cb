import Foundation
@testable import KernelOnboarding
@testable import KernelPlugins
import Testing

/// docs/plugins.md, "Subject registration and the payload schema": subject operations on a family a loaded plugin serves are checked against the
/// plugin's description; a mismatch answers `invalid_payload` and stores nothing.
@Suite("Subject plugin validation")
struct SubjectPluginValidationTests {
    static let families: @Sendable () -> [FamilyDescriptor] = { [PluginFamilies.trade, PluginFamilies.book] }

    @Test func matchingSchemaIsRegistered() throws {
        let f = try SubjectFixture(families: Self.families)
        defer { f.tearDown() }
        let r = try f.last(SubjectFixture.register("BTC-USD", "trade", body: PluginFamilies.goodTradeBody))
        #expect(r["status"] == "ok")
        #expect(r["schema_name"] == "trade")
        #expect(r["schema_version"] == "1")
        // A family no plugin serves is stored as given.
        #expect(try f.last(SubjectFixture.register("rain", "weather", body: #""free text""#))["status"] == "ok")
    }

    @Test func mismatchingSchemaIsRefusedAndNothingIsStored() throws {
        let f = try SubjectFixture(families: Self.families)
        defer { f.tearDown() }
        let body = #"{"type":"object","properties":{"venue":{"type":"string"},"symbol":{"type":"string"},"price":{"type":"boolean"}}}"#
        let r = try f.last(SubjectFixture.register("ETH-USD", "trade", body: body))
        #expect(r == ["error": "invalid_payload", "details":
            #"schema_body does not match plugin family trade v1: size: required by the plugin but not declared in properties; price: type "boolean" is not accepted (plugin: number, string)"#])
        #expect(try f.h.count("SELECT count(*) FROM subjects") == 0)
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 0)
        #expect(try f.h.count("SELECT count(*) FROM producer_subjects") == 0)
        #expect(try f.h.redis.command(["KEYS", f.h.prefix + "schemas:*"]).array?.isEmpty == true)
    }

    @Test func bindingAnExistingVersionChecksThatVersion() throws {
        let f = try SubjectFixture(families: Self.families)
        defer { f.tearDown() }
        // Stored before the plugin was loaded: a free-form body.
        _ = try f.h.pg.query(#"INSERT INTO schemas (name, version, body) VALUES ('book', 1, '{"levels":"many"}')"#)
        let r = try f.last(SubjectFixture.register("book-1", "book", body: PluginFamilies.bookSchema))
        #expect(r["error"] == "invalid_payload")
        #expect(r["details"]?.hasPrefix("schema_body does not match plugin family book v1: venue: required by the plugin") == true)
        #expect(try f.h.count("SELECT count(*) FROM subjects") == 0)
    }

    @Test func aContradictingBodyIsNotSilentlyBoundToTheExistingVersion() throws {
        let f = try SubjectFixture(families: Self.families)
        defer { f.tearDown() }
        #expect(try f.last(SubjectFixture.register("BTC-USD", "trade", body: PluginFamilies.goodTradeBody))["status"] == "ok")
        // Version 1 exists and matches the plugin; a second subject's body contradicts the plugin.
        let body = #"{"type":"object","properties":{"venue":{"type":"string"},"symbol":{"type":"string"},"size":{"type":"number"},"price":{"type":"boolean"}}}"#
        let r = try f.last(SubjectFixture.register("ETH-USD", "trade", body: body))
        #expect(r["error"] == "invalid_payload", "\(r)")
        #expect(r["details"] == #"schema_body does not match plugin family trade v1: price: type "boolean" is not accepted (plugin: number, string)"#, "\(r)")
        #expect(try f.h.count("SELECT count(*) FROM subjects") == 1)
    }

    @Test func subjectsBoundBeforeThePluginLoadedKeepWorking() throws {
        let f = try SubjectFixture(families: Self.families)
        defer { f.tearDown() }
        // Bound generically (free-form body, version 2) while no trade plugin was loaded.
        let schemaID = try f.h.scalar(#"INSERT INTO schemas (name, version, body) VALUES ('trade', 2, '{"old":true}') RETURNING schema_id::text"#)
        _ = try f.h.pg.query("INSERT INTO subjects (subject_key, current_schema_id) VALUES ('legacy', $1::uuid)", [schemaID])
        // Register keeps the current schema and changes nothing, so it is not re-checked.
        let r = try f.last(SubjectFixture.register("legacy", "trade", body: #"{"old":true}"#))
        #expect(r["status"] == "ok")
        #expect(r["unchanged"] == "true")
        #expect(r["schema_version"] == "2")
        // An upgrade that changes nothing passes; one that creates a version is checked.
        #expect(try f.last(SubjectFixture.upgrade("legacy", "trade", delta: #"{"old":true}"#))["unchanged"] == "true")
        #expect(try f.last(SubjectFixture.upgrade("legacy", "trade", delta: #"{"old":false}"#))["error"] == "invalid_payload")
    }

    @Test func upgradeBeyondThePluginVersionsIsRefused() throws {
        let f = try SubjectFixture(families: Self.families)
        defer { f.tearDown() }
        let first = try f.last(SubjectFixture.register("SOL-USD", "trade", body: PluginFamilies.goodTradeBody))
        let r = try f.last(SubjectFixture.upgrade("SOL-USD", "trade", delta: #"{"properties":{"fee":{"type":"number"}}}"#))
        #expect(r == ["error": "invalid_payload",
                      "details": "schema version 2 of family trade is not served by the loaded plugin (versions 1...1)"])
        #expect(try f.currentSchema(of: "SOL-USD") == first["schema_id"])
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 1)
        // An upgrade whose merge changes nothing stays at version 1 and passes.
        let same = try f.last(SubjectFixture.upgrade("SOL-USD", "trade", delta: #"{"type":"object"}"#))
        #expect(same["unchanged"] == "true")
    }

    @Test func upgradeInsideAWiderRangeIsCheckedAgainstTheDescription() throws {
        let wide: @Sendable () -> [FamilyDescriptor] = {
            [PluginFamilies.family("trade", 1...5, schema: PluginFamilies.tradeSchema)]
        }
        let f = try SubjectFixture(families: wide)
        defer { f.tearDown() }
        _ = try f.last(SubjectFixture.register("XRP-USD", "trade", body: PluginFamilies.goodTradeBody))
        let ok = try f.last(SubjectFixture.upgrade("XRP-USD", "trade", delta: #"{"properties":{"trade_id":{"type":"string"}}}"#))
        #expect(ok["schema_version"] == "2")
        let bad = try f.last(SubjectFixture.upgrade("XRP-USD", "trade", delta: #"{"properties":{"side":{"enum":["buy","hold"]}}}"#))
        #expect(bad == ["error": "invalid_payload", "details":
            #"schema_body does not match plugin family trade v3: side: enum value "hold" is not accepted (plugin: "buy", "sell", "unknown")"#])
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 2)
    }

    @Test func schemaUpgradeStreamIsCheckedSilently() throws {
        let f = try SubjectFixture(families: Self.families)
        defer { f.tearDown() }
        let payload = #"{"subject_key":"ADA-USD","schema_name":"trade","schema_body":{"type":"string"}}"#
        #expect(try f.schemaUpgrade(payload).isEmpty)
        #expect(try f.h.count("SELECT count(*) FROM subjects") == 0)
        let good = #"{"subject_key":"ADA-USD","schema_name":"trade","schema_body":\#(PluginFamilies.goodTradeBody)}"#
        #expect(try f.schemaUpgrade(good).first?["schema_version"] == "1")
    }
}
