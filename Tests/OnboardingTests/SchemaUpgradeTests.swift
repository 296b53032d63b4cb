import Foundation
import KernelJSON
@testable import KernelOnboarding
import Testing

/// The schema-upgrade stream (docs/onboarding.md, "Schema upgrade stream"): every success creates version max+1;
/// every failure is silent.
@Suite("Schema upgrade stream")
struct SchemaUpgradeTests {
    static func payload(_ key: String, _ name: String, body: String, attrs: String? = nil) -> String {
        #"{"subject_key":"\#(key)","schema_name":"\#(name)","schema_body":\#(body)"# + (attrs.map { #","attrs":\#($0)"# } ?? "") + "}"
    }

    @Test func everyUpgradeCreatesTheNextVersion() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let first = try f.schemaUpgrade(Self.payload("S1", "weather", body: #"{"v":1}"#, attrs: #"{"a":1}"#))
        #expect(first.count == 1)
        let r1 = try #require(first.first)
        #expect(Set(r1.keys) == ["subject_id", "schema_id", "schema_name", "schema_version"])
        #expect(r1["schema_name"] == "weather")
        #expect(r1["schema_version"] == "1")
        let subjectID = try #require(r1["subject_id"])
        #expect(try f.currentSchema(of: "S1") == r1["schema_id"])
        #expect(try f.cachedSchema(subjectID) == r1["schema_id"])
        #expect(try f.isBound(subjectID))
        #expect(try f.attrsEqual("S1", #"{"a":1}"#))

        // The same body again still makes a new version (the stream never compares).
        let r2 = try #require(try f.schemaUpgrade(Self.payload("S1", "weather", body: #"{"v":1}"#, attrs: #"{"b":2}"#)).last)
        #expect(r2["schema_version"] == "2")
        #expect(r2["subject_id"] == subjectID)
        #expect(r2["schema_id"] != r1["schema_id"])
        #expect(try f.currentSchema(of: "S1") == r2["schema_id"])
        #expect(try f.cachedSchema(subjectID) == r2["schema_id"])
        #expect(try f.historyCount(subjectID) == 2)
        #expect(try f.attrsEqual("S1", #"{"a":1,"b":2}"#))

        // Versions count per family, across subjects.
        let other = try #require(try f.schemaUpgrade(Self.payload("S2", "weather", body: #"{"v":3}"#)).last)
        #expect(other["schema_version"] == "3")
        let ttl = try f.h.ttl("subject:resp:" + f.producerID)
        #expect(ttl > 0)
    }

    @Test func failuresAreSilent() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        for bad in [
            "not json", "[]", #"{"subject_key":"","schema_name":"w","schema_body":{}}"#,
            #"{"subject_key":"k","schema_body":{}}"#, #"{"subject_key":"k","schema_name":"w"}"#,
            #"{"subject_key":"k","schema_name":"w","schema_body":null}"#,
            #"{"subject_key":"k","schema_name":"w","schema_body":{},"attrs":[]}"#,
            #"{"subject_key":"k","schema_name":"w","schema_body":{"a":"\u0000"}}"#,
            #"{"subject_key":"a\u0000","schema_name":"w","schema_body":{}}"#,
        ] {
            #expect(try f.schemaUpgrade(bad).isEmpty, "payload \(bad)")
        }
        #expect(try f.h.count("SELECT count(*) FROM subjects") == 0)
        // Replays: the first is served, the second silently dropped; the nonce key has a TTL.
        let nonce = OnboardingHarness.nonce()
        #expect(try f.schemaUpgrade(Self.payload("k", "w", body: "{}"), nonce: nonce).count == 1)
        #expect(try f.schemaUpgrade(Self.payload("k", "w", body: "{}"), nonce: nonce).count == 1)
        let ttl = try f.h.ttl("nonce:schema:\(f.producerID):\(nonce)")
        #expect(ttl > 0 && ttl <= 600)
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 1)
        // Unknown keys and bad signatures.
        let stranger = try f.h.producerIdentity("stranger")
        _ = try f.schemaUpgrade(Self.payload("k", "w", body: "{}"), as: stranger)
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 1)
        let keys = try f.h.redis.command(["KEYS", f.h.prefix + "subject:resp:*"]).array ?? []
        #expect(keys.count == 1)
    }

    @Test func unapprovedKeysAndRateLimitsAreSilent() throws {
        let pending = try SubjectFixture(keyStatus: "pending")
        defer { pending.tearDown() }
        #expect(try pending.schemaUpgrade(Self.payload("k", "w", body: "{}")).isEmpty)
        #expect(try pending.h.count("SELECT count(*) FROM schemas") == 0)

        let limited = try SubjectFixture(authYAML: ["registration_rate_limit_rpm: 1", "registration_rate_limit_burst: 1"])
        defer { limited.tearDown() }
        #expect(try limited.schemaUpgrade(Self.payload("k", "w", body: "{}")).count == 1)
        #expect(try limited.schemaUpgrade(Self.payload("k", "w", body: "{}")).count == 1)
        #expect(try limited.h.count("SELECT count(*) FROM schemas") == 1)
        #expect(try limited.h.exists("rl:schema:" + limited.producerID))
        // The subject stream has its own bucket (op `subject`).
        #expect(try limited.last(SubjectFixture.register("k2", "w2", body: "{}"))["status"] == "ok")
    }

    @Test func hostilePayloadsNeverCrash() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let deep = #"{"subject_key":"d","schema_name":"w","schema_body":"# + String(repeating: #"{"a":"#, count: 3_000) + "1"
            + String(repeating: "}", count: 3_000) + "}"
        #expect(try f.schemaUpgrade(deep).isEmpty)
        let huge = Self.payload("h", "w", body: "\"" + String(repeating: "x", count: 1_100_000) + "\"")
        #expect(try f.schemaUpgrade(huge).isEmpty)
        let noise = OnboardingHarness.rawMessage([("pubkey", [0xFF]), ("payload", [0xC0, 0x80]), ("nonce", [0]), ("sig", [0xFF])])
        SchemaUpgradeHandler(settings: f.settings).handle(noise, context: f.context)
        #expect(try f.responses().isEmpty)
        // Still serving afterwards.
        #expect(try f.schemaUpgrade(Self.payload("ok", "w", body: "{}")).count == 1)
    }

    @Test func theServiceConsumesTheSchemaUpgradeStream() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let service = try f.h.startService(settings: f.settings, handlers: [
            SubjectRegistrationHandler(settings: f.settings), SchemaUpgradeHandler(settings: f.settings),
        ])
        defer { service.stop() }
        try f.h.send("schema:upgrade", try OnboardingHarness.signedFields(f.producer, payload: Self.payload("svc", "w", body: "{}")))
        let answers = try f.h.waitForResponses("subject:resp:" + f.producerID)
        #expect(answers.first?["schema_version"] == "1")
        #expect(f.h.waitUntil { try f.h.pendingCount("schema:upgrade") == 0 })
    }
}
