import KernelJSON
@testable import KernelOnboarding
import Testing

/// SubjectRequest: payload shape and the op rules of docs/onboarding.md, "Subjects", with their exact `details` texts.
@Suite struct SubjectRequestTests {
    func refusal(_ payload: String) -> SubjectRequest.Refusal? {
        do {
            _ = try SubjectRequest.parse(payload)
            return nil
        } catch {
            return error
        }
    }

    @Test func registerParses() throws {
        let r = try SubjectRequest.parse(#"{"op":"register","subject_key":"AAPL","schema_name":"trade","schema_body":{"type":"object"},"attrs":{"a":1}}"#)
        #expect(r.subjectKey == "AAPL")
        guard case .register(let name, let body, let attrs) = r.operation else { Issue.record("not register"); return }
        #expect(name == "trade")
        #expect(body == .object(JSONObject([(key: "type", value: .string("object"))])))
        #expect(attrs?["a"] == .number("1"))
    }

    @Test func upgradeParses() throws {
        let r = try SubjectRequest.parse(#"{"op":"upgrade","subject_key":"k","schema_name":"trade","schema_delta":[1],"attrs_delta":{"x":null}}"#)
        guard case .upgrade(let name, let delta, let attrsDelta) = r.operation else { Issue.record("not upgrade"); return }
        #expect(name == "trade")
        #expect(delta == .array([.number("1")]))
        #expect(attrsDelta?["x"] == .null)
    }

    @Test func opIsTrimmedAndCaseInsensitive() throws {
        let r = try SubjectRequest.parse(" {\"op\":\" \\tReGiStEr\\n \",\"subject_key\":\"k\",\"schema_name\":\"n\",\"schema_body\":1}")
        guard case .register = r.operation else { Issue.record("not register"); return }
        #expect(SubjectRequest.normalized("\u{3000}UPGRADE\u{a0}") == "upgrade")
    }

    @Test func registerRulesHaveTheExactDetails() {
        let requires = SubjectRequest.Refusal.invalidPayload(details: "register requires schema_name and schema_body")
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_body":{}}"#) == requires)
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_name":"","schema_body":{}}"#) == requires)
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_name":"n"}"#) == requires)
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_name":"n","schema_body":null}"#) == requires)
        let deltas = SubjectRequest.Refusal.invalidPayload(details: "delta fields not allowed for register")
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_name":"n","schema_body":{},"schema_delta":{}}"#) == deltas)
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_name":"n","schema_body":{},"attrs_delta":{"a":1}}"#) == deltas)
        // Requirements are checked before the forbidden fields.
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_delta":{}}"#) == requires)
        // An empty attrs_delta changes nothing and is tolerated.
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_name":"n","schema_body":{},"attrs_delta":{}}"#) == nil)
    }

    @Test func upgradeRulesHaveTheExactDetails() {
        let requires = SubjectRequest.Refusal.invalidPayload(details: "upgrade requires schema_name and schema_delta")
        #expect(refusal(#"{"op":"upgrade","subject_key":"k","schema_delta":{}}"#) == requires)
        #expect(refusal(#"{"op":"upgrade","subject_key":"k","schema_name":"n"}"#) == requires)
        #expect(refusal(#"{"op":"upgrade","subject_key":"k","schema_name":"n","schema_body":{}}"#) == requires)
        #expect(refusal(#"{"op":"upgrade","subject_key":"k","schema_name":"n","schema_delta":{},"schema_body":{}}"#)
            == .invalidPayload(details: "schema_body not allowed for upgrade"))
    }

    @Test func unknownOpCarriesTheRawOp() {
        #expect(refusal(#"{"op":" Delete ","subject_key":"k"}"#) == .unknownOp(raw: " Delete "))
        #expect(refusal(#"{"subject_key":"k"}"#) == .unknownOp(raw: ""))
        #expect(refusal(#"{"op":null,"subject_key":"k"}"#) == .unknownOp(raw: ""))
        #expect(refusal(#"{"op":"","subject_key":"k"}"#) == .unknownOp(raw: ""))
    }

    @Test func shapeProblemsAreInvalidPayloadWithoutDetails() {
        let plain = SubjectRequest.Refusal.invalidPayload(details: nil)
        for payload in [
            "", "not json", "{", "[]", "null", "42", #""register""#, "{}",
            #"{"op":"register","subject_key":""}"#,
            #"{"op":"register","schema_name":"n","schema_body":{}}"#,
            #"{"op":"register","subject_key":5,"schema_name":"n","schema_body":{}}"#,
            #"{"op":7,"subject_key":"k"}"#,
            #"{"op":"register","subject_key":"k","schema_name":["n"],"schema_body":{}}"#,
            #"{"op":"register","subject_key":"k","schema_name":"n","schema_body":{},"attrs":[1]}"#,
            #"{"op":"upgrade","subject_key":"k","schema_name":"n","schema_delta":{},"attrs_delta":"x"}"#,
            #"{"op":"register","subject_key":"k"} trailing"#,
        ] {
            #expect(refusal(payload) == plain, "payload: \(payload)")
        }
        // subject_key is checked before the op.
        #expect(refusal(#"{"op":"nope"}"#) == plain)
    }

    @Test func namesAreBounded() {
        let long = String(repeating: "k", count: SubjectRequest.maxSubjectKeyBytes + 1)
        #expect(refusal(#"{"op":"register","subject_key":""# + long + #"","schema_name":"n","schema_body":{}}"#)
            == .invalidPayload(details: "subject_key longer than 1024 bytes"))
        let exact = String(repeating: "k", count: SubjectRequest.maxSubjectKeyBytes)
        #expect(refusal(#"{"op":"register","subject_key":""# + exact + #"","schema_name":"n","schema_body":{}}"#) == nil)
        let longName = String(repeating: "n", count: SubjectRequest.maxSchemaNameBytes + 1)
        #expect(refusal(#"{"op":"upgrade","subject_key":"k","schema_name":""# + longName + #"","schema_delta":{}}"#)
            == .invalidPayload(details: "schema_name longer than 256 bytes"))
        #expect(refusal(#"{"op":"register","subject_key":"a\u0000b","schema_name":"n","schema_body":{}}"#)
            == .invalidPayload(details: "subject_key must not contain NUL characters"))
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_name":"\u0000","schema_body":{}}"#)
            == .invalidPayload(details: "schema_name must not contain NUL characters"))
    }

    @Test func hostilePayloadsNeverCrash() {
        // Deeper than the parser allows.
        let deep = #"{"op":"register","subject_key":"k","schema_name":"n","schema_body":"#
            + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(refusal(deep) == .invalidPayload(details: nil))
        // Just inside the limit is fine.
        let ok = #"{"op":"register","subject_key":"k","schema_name":"n","schema_body":"#
            + String(repeating: "[", count: 62) + String(repeating: "]", count: 62) + "}"
        #expect(refusal(ok) == nil)
        // Huge strings.
        let big = String(repeating: "€", count: 300_000)
        #expect(refusal(#"{"op":"register","subject_key":"k","schema_name":"n","schema_body":""# + big + #""}"#) == nil)
        // Invalid UTF-8 as the field would arrive (decoded with U+FFFD) and lone surrogates.
        let bytes: [UInt8] = Array(#"{"op":"register","subject_key":""#.utf8) + [0xC3, 0x28, 0xFF]
            + Array(#"","schema_name":"n\ud800","schema_body":{}}"#.utf8)
        let text = String(decoding: bytes, as: UTF8.self)
        let r = try? SubjectRequest.parse(text)
        #expect(r?.subjectKey == "\u{FFFD}(\u{FFFD}")
        // Random bytes.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let noise = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = refusal(String(decoding: noise, as: UTF8.self))
        }
    }
}
