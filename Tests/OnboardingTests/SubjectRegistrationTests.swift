import Foundation
import KernelJSON
@testable import KernelOnboarding
import Testing

/// Subject registration and upgrade (docs/onboarding.md, "Subjects") through the handler, on real Redis and Postgres.
@Suite("Subject registration")
struct SubjectRegistrationTests {
    static let body = #"{"type":"object","properties":{"price":{"type":"number"}}}"#

    @Test func registerNewSubjectCreatesVersionOne() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let r = try f.last(SubjectFixture.register("AAPL", "weather", body: Self.body, attrs: #"{"venue":"X"}"#))
        #expect(r["status"] == "ok")
        #expect(r["producer_id"] == f.producerID)
        #expect(r["schema_name"] == "weather")
        #expect(r["schema_version"] == "1")
        #expect(r["unchanged"] == "false")
        #expect(r["error"] == nil)
        let subjectID = try #require(r["subject_id"])
        let schemaID = try #require(r["schema_id"])
        #expect(Set(r.keys) == ["status", "producer_id", "subject_id", "schema_id", "schema_name", "schema_version", "unchanged"])

        #expect(try f.currentSchema(of: "AAPL") == schemaID)
        #expect(try f.body(of: schemaID, equals: Self.body))
        #expect(try f.h.scalar("SELECT name || ':' || version FROM schemas WHERE schema_id = $1::uuid", [schemaID]) == "weather:1")
        #expect(try f.attrsEqual("AAPL", #"{"venue":"X"}"#))
        #expect(try f.historyCount(subjectID) == 1)
        #expect(try f.isBound(subjectID))
        // The cache ingest reads (docs/protocol.md, "Ingest checks, in order"), with a one-hour TTL; the response stream has a TTL.
        #expect(try f.cachedSchema(subjectID) == schemaID)
        let cacheTTL = try f.h.ttl("schemas:" + subjectID)
        #expect(cacheTTL > 3500 && cacheTTL <= 3600)
        let responseTTL = try f.h.ttl("subject:resp:" + f.producerID)
        #expect(responseTTL > 0 && responseTTL <= 300)
    }

    @Test func registerAgainKeepsTheSchemaAndReportsUnchanged() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let first = try f.last(SubjectFixture.register("k1", "weather", body: Self.body, attrs: #"{"a":1,"b":{"x":1}}"#))
        // Same body, other key order and spacing: equal as jsonb.
        let again = try f.last(SubjectFixture.register("k1", "weather", body: #"{ "properties" : {"price":{"type":"number"}}, "type":"object" }"#,
                                                       attrs: #"{"b":{"y":2},"c":3}"#))
        #expect(again["status"] == "ok")
        #expect(again["unchanged"] == "true")
        #expect(again["schema_id"] == first["schema_id"])
        #expect(again["subject_id"] == first["subject_id"])
        // attrs are shallow-merged on register.
        #expect(try f.attrsEqual("k1", #"{"a":1,"b":{"y":2},"c":3}"#))
        // Another body (even another family name) keeps the current schema and creates nothing.
        let other = try f.last(SubjectFixture.register("k1", "other", body: #"{"type":"string"}"#))
        #expect(other["unchanged"] == "false")
        #expect(other["schema_id"] == first["schema_id"])
        #expect(other["schema_name"] == "weather")
        #expect(other["schema_version"] == "1")
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 1)
    }

    @Test func registerBindsTheLowestExistingVersionOfTheFamily() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let v3 = try f.h.scalar("INSERT INTO schemas (name, version, body) VALUES ('weather', 3, '{\"v\":3}') RETURNING schema_id::text")
        let v2 = try f.h.scalar("INSERT INTO schemas (name, version, body) VALUES ('weather', 2, '{\"v\":2}') RETURNING schema_id::text")
        #expect(v3 != nil)
        let r = try f.last(SubjectFixture.register("k2", "weather", body: #"{"anything":"else"}"#))
        #expect(r["schema_id"] == v2)
        #expect(r["schema_version"] == "2")
        #expect(r["unchanged"] == "false")
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 2)
        #expect(try f.currentSchema(of: "k2") == v2)
    }

    @Test func registerOpRulesAnswerTheExactDetails() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        #expect(try f.last(#"{"op":"register","subject_key":"k","schema_name":"w","schema_body":{},"schema_delta":{}}"#)
            == ["error": "invalid_payload", "details": "delta fields not allowed for register"])
        #expect(try f.last(#"{"op":"register","subject_key":"k","schema_name":"w"}"#)
            == ["error": "invalid_payload", "details": "register requires schema_name and schema_body"])
        #expect(try f.last(#"{"op":"upgrade","subject_key":"k","schema_name":"w"}"#)
            == ["error": "invalid_payload", "details": "upgrade requires schema_name and schema_delta"])
        #expect(try f.last(#"{"op":"upgrade","subject_key":"k","schema_name":"w","schema_delta":{},"schema_body":{}}"#)
            == ["error": "invalid_payload", "details": "schema_body not allowed for upgrade"])
        #expect(try f.last(#"{"op":" Delete","subject_key":"k"}"#) == ["error": "unknown_op", "op": " Delete"])
        #expect(try f.last(#"{"subject_key":"k"}"#) == ["error": "unknown_op", "op": ""])
        #expect(try f.last(#"{"op":"register","subject_key":""}"#) == ["error": "invalid_payload"])
        #expect(try f.last("not json") == ["error": "invalid_payload"])
        #expect(try f.h.count("SELECT count(*) FROM subjects") == 0)
    }

    @Test func upgradeDeepMergesAndBumpsTheVersion() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let first = try f.last(SubjectFixture.register("k3", "weather", body: Self.body, attrs: #"{"a":{"x":1},"keep":true}"#))
        let r = try f.last(SubjectFixture.upgrade("k3", "weather", delta: #"{"properties":{"size":{"type":"string"}},"required":["price"]}"#,
                                                  attrsDelta: #"{"a":{"y":2},"n":null}"#))
        #expect(r["status"] == "ok")
        #expect(r["schema_version"] == "2")
        #expect(r["unchanged"] == "false")
        #expect(r["subject_id"] == first["subject_id"])
        let v2 = try #require(r["schema_id"])
        #expect(v2 != first["schema_id"])
        #expect(try f.body(of: v2, equals: #"{"type":"object","properties":{"price":{"type":"number"},"size":{"type":"string"}},"required":["price"]}"#))
        // The old version is immutable, the new one is current, cached and in the history.
        #expect(try f.body(of: first["schema_id"]!, equals: Self.body))
        #expect(try f.currentSchema(of: "k3") == v2)
        #expect(try f.cachedSchema(r["subject_id"]!) == v2)
        #expect(try f.historyCount(r["subject_id"]!) == 2)
        #expect(try f.attrsEqual("k3", #"{"a":{"x":1,"y":2},"keep":true,"n":null}"#))

        // Arrays replace, null replaces: version 3.
        let r3 = try f.last(SubjectFixture.upgrade("k3", "weather", delta: #"{"required":[],"properties":{"size":null}}"#))
        #expect(r3["schema_version"] == "3")
        #expect(try f.body(of: r3["schema_id"]!, equals: #"{"type":"object","properties":{"price":{"type":"number"},"size":null},"required":[]}"#))
    }

    @Test func upgradeWithAnEqualResultIsUnchanged() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let first = try f.last(SubjectFixture.register("k4", "weather", body: Self.body))
        let r = try f.last(SubjectFixture.upgrade("k4", "weather", delta: #"{"type":"object","properties":{}}"#, attrsDelta: #"{"z":1}"#))
        #expect(r["status"] == "ok")
        #expect(r["unchanged"] == "true")
        #expect(r["schema_version"] == "1")
        #expect(r["schema_id"] == first["schema_id"])
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 1)
        // attrs_delta still applies.
        #expect(try f.attrsEqual("k4", #"{"z":1}"#))
    }

    @Test func upgradeRefusals() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        #expect(try f.last(SubjectFixture.upgrade("nobody", "weather", delta: "{}"))
            == ["error": "upgrade_failed", "reason": "subject_not_found"])
        _ = try f.last(SubjectFixture.register("k5", "weather", body: Self.body))
        #expect(try f.last(SubjectFixture.upgrade("k5", "trade", delta: #"{"a":1}"#))
            == ["error": "upgrade_failed", "reason": "schema_family_not_found_for_subject"])
        _ = try f.h.pg.query("INSERT INTO subjects (subject_key) VALUES ('bare')")
        #expect(try f.last(SubjectFixture.upgrade("bare", "weather", delta: "{}"))
            == ["error": "upgrade_failed", "reason": "subject_current_schema_missing"])
        // Nothing of the refused upgrades was stored.
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 1)
    }

    @Test func databaseRefusalsAnswerRegisterFailedAndRollBack() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        // jsonb refuses \u0000 in strings: the transaction fails as a whole.
        let r = try f.last(SubjectFixture.register("nul", "weather", body: #"{"a":"\u0000"}"#))
        #expect(r["error"] == "register_failed")
        #expect(r["reason"]?.isEmpty == false)
        #expect(try f.h.count("SELECT count(*) FROM subjects") == 0)
        // The handler and its connection keep working.
        #expect(try f.last(SubjectFixture.register("nul", "weather", body: "{}"))["status"] == "ok")
        let u = try f.last(SubjectFixture.upgrade("nul", "weather", delta: #"{"b":"\u0000"}"#))
        #expect(u["error"] == "upgrade_failed")
        #expect(try f.h.count("SELECT count(*) FROM schemas") == 1)
    }

    @Test func replayedNonceIsAnsweredReplay() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let nonce = OnboardingHarness.nonce()
        let payload = SubjectFixture.register("k6", "weather", body: Self.body)
        #expect(try f.last(payload, nonce: nonce)["status"] == "ok")
        #expect(try f.last(payload, nonce: nonce) == ["error": "replay"])
        let ttl = try f.h.ttl("nonce:subject:\(f.producerID):\(nonce)")
        #expect(ttl > 0 && ttl <= 600)
    }

    @Test func secondImmediateRequestIsRateLimited() throws {
        let f = try SubjectFixture(authYAML: ["registration_rate_limit_rpm: 1", "registration_rate_limit_burst: 1"])
        defer { f.tearDown() }
        #expect(try f.last(SubjectFixture.register("k7", "weather", body: Self.body))["status"] == "ok")
        #expect(try f.last(SubjectFixture.register("k8", "weather", body: Self.body)) == ["error": "rate_limited"])
        #expect(try f.h.count("SELECT count(*) FROM subjects WHERE subject_key = 'k8'") == 0)
        #expect(try f.h.exists("rl:subject:" + f.producerID))
    }

    @Test func badSignatureFromABoundKeyIsAnsweredOtherwiseSilent() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let payload = SubjectFixture.register("k9", "weather", body: Self.body)
        var fields = try OnboardingHarness.signedFields(f.producer, payload: payload)
        fields[3].1 = try OnboardingHarness.sign(payload: payload + " ", nonce: "other", keyPath: f.producer.keyPath)
        #expect(try f.subject(payload, fields: fields) == [["error": "invalid_sig", "reason": "signature_verification_failed"]])
        // An expired certificate of the bound key is answered the same way.
        let expired = try f.h.certify(f.producer.keyPath, validity: "20200101:20200201")
        let expiredFields = try OnboardingHarness.signedFields(ProducerIdentity(keyPath: f.producer.keyPath, cert: expired), payload: payload)
        #expect(try f.subject(payload, fields: expiredFields).count == 2)
        // A key nobody registered: no response anywhere, nothing stored.
        let stranger = try f.h.producerIdentity("stranger")
        var strangerFields = try OnboardingHarness.signedFields(stranger, payload: payload)
        strangerFields[3].1 = fields[3].1
        _ = try f.subject(payload, fields: strangerFields)
        _ = try f.subject(payload, as: stranger) // valid signature, unknown key: silent too
        #expect(try f.responses().count == 2)
        #expect(try f.h.count("SELECT count(*) FROM subjects") == 0)
        let keys = try f.h.redis.command(["KEYS", f.h.prefix + "subject:resp:*"]).array ?? []
        #expect(keys.count == 1)
        // Missing fields: silent.
        _ = try f.subject(payload, fields: [("pubkey", f.producer.cert), ("payload", payload), ("nonce", "n"), ("sig", "")])
        #expect(try f.responses().count == 2)
    }

    @Test func keyNotApprovedIsAnsweredWithItsStatus() throws {
        for status in ["pending", "revoked", "superseded"] {
            let f = try SubjectFixture(keyStatus: status)
            defer { f.tearDown() }
            #expect(try f.last(SubjectFixture.register("k10", "weather", body: Self.body))
                == ["error": "key_not_approved", "status": status])
            #expect(try f.h.count("SELECT count(*) FROM subjects") == 0)
        }
    }

    @Test func anotherProducerGainsABindingToAnExistingSubject() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let first = try f.last(SubjectFixture.register("shared", "weather", body: Self.body))
        let other = try f.h.producerIdentity("other")
        let otherID = try f.h.insertKey(other, status: "approved")
        _ = try f.subject(SubjectFixture.register("shared", "weather", body: Self.body), as: other)
        let answer = try f.h.responses("subject:resp:" + otherID)
        #expect(answer.first?["subject_id"] == first["subject_id"])
        #expect(answer.first?["unchanged"] == "true")
        #expect(try f.isBound(first["subject_id"]!, producer: otherID))
        #expect(try f.h.count("SELECT count(*) FROM producer_subjects") == 2)
        // Binding twice is idempotent.
        _ = try f.last(SubjectFixture.register("shared", "weather", body: Self.body))
        #expect(try f.h.count("SELECT count(*) FROM producer_subjects") == 2)
    }

    @Test func concurrentUpgradesOfOneFamilyGetDistinctVersions() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        _ = try f.last(SubjectFixture.register("c1", "weather", body: Self.body))
        _ = try f.last(SubjectFixture.register("c2", "weather", body: Self.body))
        let payloads = [SubjectFixture.upgrade("c1", "weather", delta: #"{"one":1}"#),
                        SubjectFixture.upgrade("c2", "weather", delta: #"{"two":2}"#)]
        let messages = try payloads.map { OnboardingHarness.message(try OnboardingHarness.signedFields(f.producer, payload: $0)) }
        let (h, settings) = (f.h, f.settings)
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            guard let context = try? h.context(settings: settings) else { return }
            SubjectRegistrationHandler(settings: settings).handle(messages[i], context: context)
            context.redis.close()
        }
        let answers = try f.responses().suffix(2)
        #expect(answers.allSatisfy { $0["status"] == "ok" })
        #expect(Set(answers.compactMap { $0["schema_version"] }) == ["2", "3"])
        #expect(try f.h.count("SELECT count(*) FROM schemas WHERE name = 'weather'") == 3)
    }

    @Test func hostilePayloadsNeverCrash() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        // Deeper than the parser allows.
        let deep = #"{"op":"register","subject_key":"d","schema_name":"w","schema_body":"#
            + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "}"
        #expect(try f.last(deep) == ["error": "invalid_payload"])
        // Non-object payloads.
        for payload in ["[]", "null", "1", #""register""#, "{", "}"] {
            #expect(try f.last(payload) == ["error": "invalid_payload"], "payload \(payload)")
        }
        // Over the payload limit.
        let huge = SubjectFixture.register("h", "w", body: "\"" + String(repeating: "x", count: 1_100_000) + "\"")
        #expect(try f.last(huge) == ["error": "invalid_payload", "details": "payload larger than 1048576 bytes"])
        // A large but acceptable body is stored.
        let big = SubjectFixture.register("big", "w", body: "\"" + String(repeating: "é", count: 400_000) + "\"")
        #expect(try f.last(big)["status"] == "ok")
        // Over-long or NUL-carrying keys.
        #expect(try f.last(SubjectFixture.register(String(repeating: "k", count: 2_000), "w", body: "{}"))
            == ["error": "invalid_payload", "details": "subject_key longer than 1024 bytes"])
        #expect(try f.last(SubjectFixture.register(#"a\u0000b"#, "w", body: "{}"))
            == ["error": "invalid_payload", "details": "subject_key must not contain NUL characters"])
        // Invalid UTF-8 in the payload field, signed over the raw bytes: repaired to U+FFFD.
        let raw: [UInt8] = Array(#"{"op":"register","subject_key":"bad"#.utf8) + [0xFF, 0xC3] + Array(#"","schema_name":"w","schema_body":{}}"#.utf8)
        let nonce = OnboardingHarness.nonce()
        let message = OnboardingHarness.rawMessage([
            ("pubkey", Array(f.producer.cert.utf8)), ("payload", raw), ("nonce", Array(nonce.utf8)),
            ("sig", Array(try SubjectFixture.sign(bytes: raw, nonce: nonce, keyPath: f.producer.keyPath).utf8)),
        ])
        let before = try f.responses().count
        SubjectRegistrationHandler(settings: f.settings).handle(message, context: f.context)
        let after = try f.responses()
        #expect(after.count == before + 1)
        #expect(after.last?["status"] == "ok")
        #expect(try f.h.count("SELECT count(*) FROM subjects WHERE subject_key = $1", ["bad\u{FFFD}\u{FFFD}"]) == 1)
        // Garbage in every field.
        let noise = OnboardingHarness.rawMessage([
            ("pubkey", [0xFF, 0x00, 0x41]), ("payload", [0xFE]), ("nonce", [0x00]), ("sig", [0x80, 0x81]),
        ])
        SubjectRegistrationHandler(settings: f.settings).handle(noise, context: f.context)
        #expect(try f.responses().count == before + 1)
    }

    @Test func theServiceConsumesTheSubjectStream() throws {
        let f = try SubjectFixture()
        defer { f.tearDown() }
        let service = try f.h.startService(settings: f.settings, handlers: [SubjectRegistrationHandler(settings: f.settings)])
        defer { service.stop() }
        try f.h.send("subject:register", try OnboardingHarness.signedFields(f.producer, payload: SubjectFixture.register("svc", "weather", body: Self.body)))
        let answers = try f.h.waitForResponses("subject:resp:" + f.producerID)
        #expect(answers.first?["status"] == "ok")
        #expect(f.h.waitUntil { try f.h.pendingCount("subject:register") == 0 })
    }
}
