import Testing
import KernelJSON
@testable import KernelEvents

@Suite("EventEnvelope.parse")
struct EventEnvelopeTests {
    @Test("the sample trade event yields exact fields and the exact payload bytes")
    func sample() throws {
        let bytes = Array(sampleEvent.utf8)
        let e = try EventEnvelope.parse(bytes)
        #expect(e.eventID.description == "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21")
        #expect(e.subjectID.description == "3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d")
        #expect(e.tsNanos == sampleSeconds * nanosPerSecond + 123_456_789)
        #expect(Array(bytes[e.payloadRange]) == Array(samplePayload.utf8))
        #expect(e.tags == [
            EnvelopeTag(key: "core.symbol", value: "AAPL"),
            EnvelopeTag(key: "core.venue", value: "XNAS"),
            EnvelopeTag(key: "desk", value: "equities-été"),
        ])
        // The raw-pointer entry point agrees, ranges index the same buffer.
        let viaPointer = try bytes.withUnsafeBytes { raw throws(EnvelopeError) in try EventEnvelope.parse(raw) }
        #expect(viaPointer == e)
    }

    @Test("payload range is exact with whitespace, nesting and members after it")
    func payloadRange() throws {
        let payload = #"{ "a" : [ {"b":"}]\"{"} , 1 ] , "c":{} }"#
        let text = "  \n{ \"payload\" :\t" + payload + " , \"event_id\":\"0190F3C4-7B1E-7CC3-9D2A-5B8E1F0A4C21\","
            + "\"ts\":\"2024-07-15T14:30:01Z\",\"subject_id\":\"3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d\" }\r\n"
        let bytes = Array(text.utf8)
        let e = try EventEnvelope.parse(bytes)
        #expect(Array(bytes[e.payloadRange]) == Array(payload.utf8))
        #expect(e.eventID.description == "0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21")
        #expect(e.tsNanos == sampleSeconds * nanosPerSecond)
        #expect(e.tags.isEmpty)
        // An empty object is a valid payload.
        let empty = Array(event(payload: "{}").utf8)
        let e2 = try EventEnvelope.parse(empty)
        #expect(Array(empty[e2.payloadRange]) == Array("{}".utf8))
    }

    @Test("escaped strings are decoded before UUID and timestamp parsing")
    func escapes() throws {
        let text = event(eventID: #""0190f3c4\u002d7b1e-7cc3-9d2a-5b8e1f0a4c21""#,
                         ts: #""2024-07-15T14:30:01\u002E5\u005a""#,
                         subjectID: #""\u0033f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d""#)
        let e = try #require(envelope(text))
        #expect(e.eventID == EventUUID("0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21"))
        #expect(e.subjectID == EventUUID("3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d"))
        #expect(e.tsNanos == sampleSeconds * nanosPerSecond + 500_000_000)
        // Keys may be escaped too.
        let escapedKeys = #"{"event\u005fid":"0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21","\u0074s":"2024-07-15T14:30:01Z","#
            + #""subject_id":"3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d","payload":{}}"#
        #expect(envelope(escapedKeys)?.tsNanos == sampleSeconds * nanosPerSecond)
        // An escape that decodes to something that is not UUID text is still refused.
        #expect(refusal(event(eventID: #""0190f3c4\n7b1e-7cc3-9d2a-5b8e1f0a4c21""#))?.reason == .badEventID)
    }

    @Test("offsets are converted to UTC", arguments: [
        ("2026-03-01T15:30:00+05:30", "2026-03-01T10:00:00.000000000Z"),
        ("2026-03-01T04:00:00-06:00", "2026-03-01T10:00:00.000000000Z"),
        ("2026-03-01T00:30:00+01:00", "2026-02-28T23:30:00.000000000Z"),
        ("2024-12-31T23:59:59.999999999-00:00", "2024-12-31T23:59:59.999999999Z"),
        ("2024-07-15t14:30:01.1z", "2024-07-15T14:30:01.100000000Z"),
    ])
    func offsets(input: String, utc: String) throws {
        let e = try #require(envelope(event(ts: "\"" + input + "\"")))
        #expect(RFC3339.format(nanos: e.tsNanos) == utc)
        #expect(e.tsNanos == nanos(utc))
    }

    @Test("duplicate members: the last one wins")
    func duplicates() throws {
        let text = #"{"ts":"1999-01-01T00:00:00Z","event_id":"0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21","#
            + #""ts":"2024-07-15T14:30:01Z","subject_id":"3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d","payload":{}}"#
        #expect(envelope(text)?.tsNanos == sampleSeconds * nanosPerSecond)
    }

    @Test("each error reason, with the field named in the detail")
    func reasons() {
        let cases: [(String, EnvelopeError.Reason, String)] = [
            ("", .malformedJSON, "malformed"),
            ("   ", .malformedJSON, "malformed"),
            (#"{"event_id":"x""#, .malformedJSON, "malformed"),
            (event() + "x", .malformedJSON, "malformed"),
            (#"{"a":1,}"#, .malformedJSON, "malformed"),
            ("[]", .notObject, "an array"),
            (#""text""#, .notObject, "a string"),
            ("42", .notObject, "a number"),
            ("null", .notObject, "null"),
            (event(eventID: nil), .missingEventID, "event_id is missing"),
            (event(eventID: "null"), .missingEventID, "event_id is null"),
            (event(eventID: #""""#), .missingEventID, "event_id is empty"),
            (event(eventID: "7"), .badEventID, "event_id must be a string"),
            (event(eventID: #""not-a-uuid""#), .badEventID, #"event_id "not-a-uuid" is not a UUID"#),
            (event(eventID: #"{"x":1}"#), .badEventID, "got an object"),
            (event(ts: nil), .missingTs, "ts is missing"),
            (event(ts: "null"), .missingTs, "ts is null"),
            (event(ts: #""""#), .missingTs, "ts is empty"),
            (event(ts: "1721053801"), .badTs, "ts must be a string, got a number"),
            (event(ts: #""1721053801""#), .badTs, "not an RFC 3339 timestamp"),
            (event(ts: #""2026-02-29T00:00:00Z""#), .badTs, #"ts "2026-02-29T00:00:00Z""#),
            (event(subjectID: nil), .missingSubjectID, "subject_id is missing"),
            (event(subjectID: "null"), .missingSubjectID, "subject_id is null"),
            (event(subjectID: #""""#), .missingSubjectID, "subject_id is empty"),
            (event(subjectID: "true"), .badSubjectID, "got a boolean"),
            (event(subjectID: #""3f1e2d4c5b6a47898c0d1e2f3a4b5c6d""#), .badSubjectID, "is not a UUID"),
            (event(payload: nil), .missingPayload, "payload is missing"),
            (event(payload: "null"), .payloadNotObject, "got null"),
            (event(payload: "[1]"), .payloadNotObject, "got an array"),
            (event(payload: #""{}""#), .payloadNotObject, "got a string"),
            (event(payload: "12"), .payloadNotObject, "got a number"),
            (event(payload: #"{"s":"\u0000"}"#), .nulCharacter, "NUL character"),
            (event(payload: #"{"s":"\udfff"}"#), .loneSurrogate, "lone surrogate"),
            (event(tags: "[" + Array(repeating: #"{"key":"k","value":"v"}"#, count: 33).joined(separator: ",") + "]"),
             .tooManyTags, "server.max_event_tags"),
            (event(tags: #"[{"key":""# + String(repeating: "k", count: 257) + #"","value":"v"}]"#),
             .tagKeyTooLong, "server.max_tag_key_bytes"),
            (event(tags: #"[{"key":"k","value":""# + String(repeating: "v", count: 257) + #""}]"#),
             .tagValueTooLong, "server.max_tag_value_bytes"),
        ]
        for (text, reason, fragment) in cases {
            let error = refusal(text)
            #expect(error?.reason == reason, "\(text)")
            #expect(error?.detail.contains(fragment) == true, "\(text): \(error?.detail ?? "accepted")")
        }
        // Every reason is covered; invalid UTF-8 cannot be written as a Swift string, so `tagUTF8`
        // and HostileTextTests cover it.
        #expect(Set(cases.map(\.1)).union([.invalidUTF8]) == Set(EnvelopeError.Reason.allCases))
    }

    @Test("checks run in a fixed order: event_id, ts, subject_id, payload")
    func order() {
        #expect(refusal(event(eventID: nil, ts: nil, subjectID: nil, payload: nil))?.reason == .missingEventID)
        #expect(refusal(event(ts: "1", subjectID: nil, payload: nil))?.reason == .badTs)
        #expect(refusal(event(subjectID: "1", payload: "1"))?.reason == .badSubjectID)
    }

    @Test("reason codes are the stable DLQ/log strings")
    func codes() {
        #expect(EnvelopeError.Reason.allCases.map(\.rawValue) == [
            "not_object", "missing_event_id", "bad_event_id", "missing_ts", "bad_ts", "missing_subject_id",
            "bad_subject_id", "missing_payload", "payload_not_object", "malformed_json", "invalid_utf8",
            "nul_character", "lone_surrogate", "too_many_tags", "tag_key_too_long", "tag_value_too_long",
        ])
        #expect(EnvelopeError(.badTs, detail: "x").description == "bad_ts: x")
    }

    @Test("details quote at most 64 input bytes, never control or non-ASCII bytes")
    func detailEcho() throws {
        let long = String(repeating: "A", count: 10_000)
        let error = try #require(refusal(event(eventID: "\"" + long + "\"")))
        #expect(error.reason == .badEventID)
        #expect(error.detail.utf8.count < 64 + 40)
        #expect(error.detail.contains(String(repeating: "A", count: 64) + "\"…"))
        #expect(!error.detail.contains(String(repeating: "A", count: 65)))

        let forged = try #require(refusal(event(ts: #""2024\n\u001b[31m\r\nINFO é""#)))
        #expect(forged.reason == .badTs)
        #expect(!forged.detail.unicodeScalars.contains { $0.value < 0x20 || $0.value > 0x7E && $0 != "…" })
    }

    @Test("tags: rules for non-arrays, bad items, empty and escaped keys and values")
    func tags() throws {
        for notArray in ["null", "{}", #"{"key":"a","value":"b"}"#, #""a""#, "1", "true"] {
            #expect(envelope(event(tags: notArray))?.tags == [], "\(notArray)")
        }
        #expect(envelope(event(tags: "[]"))?.tags == [])
        let items = """
        [ 1, "x", null, [ {"key":"in","value":"array"} ], {"key":"a"}, {"value":"b"},
          {"key":1,"value":"b"}, {"key":"a","value":true}, {"key":null,"value":"b"},
          {"key":"","value":"b"}, {"key":"a","value":""},
          {"key":"ok","value":"1","extra":{"key":"x","value":"y"}},
          {"value":"2","key":"swapped"},
          {"key":"k","value":"first","value":"last"}, {"key":"a","value":"b","value":1},
          { "key" : "spaced" , "value" : "out" } ,
          {"key":"esc\\"aped\\\\","value":"\\u00e9\\ud83d\\ude00\\n"},
          {"k\\u0065y":"escaped-member","value":"v"},
          {"key":"Core.Symbol","value":"aapl"} ]
        """
        let e = try #require(envelope(event(tags: items)))
        #expect(e.tags == [
            EnvelopeTag(key: "ok", value: "1"),
            EnvelopeTag(key: "swapped", value: "2"),
            EnvelopeTag(key: "k", value: "last"),
            EnvelopeTag(key: "spaced", value: "out"),
            EnvelopeTag(key: "esc\"aped\\", value: "é😀\n"),
            EnvelopeTag(key: "escaped-member", value: "v"),
            EnvelopeTag(key: "Core.Symbol", value: "aapl"),
        ])
    }

    @Test("tags: invalid UTF-8 inside a tag is refused, never stored repaired")
    func tagUTF8() throws {
        var bytes = Array(event(tags: #"[{"key":"k","value":"aXb"}]"#).utf8)
        let x = try #require(bytes.lastIndex(of: UInt8(ascii: "X")))
        bytes[x] = 0xFF
        guard case .failure(let error) = parse(bytes) else {
            Issue.record("accepted")
            return
        }
        #expect(error.reason == .invalidUTF8)
        #expect(error.detail == "invalid UTF-8 at byte offset \(x) in tags[0].value: an event must be well-formed UTF-8")
    }

    @Test("the array walker finds every item of well-formed arrays")
    func arrayWalker() {
        let arrays = [
            ("[]", [String]()),
            ("[ ]", []),
            ("[1]", ["1"]),
            (#"[ 1 , "a,]" , [1,[2]] , {"b":"]}"} , true,null,-1.5e3 ]"#,
             ["1", #""a,]""#, "[1,[2]]", #"{"b":"]}"}"#, "true", "null", "-1.5e3"]),
            (#"["\\",{"a":"\"}"}]"#, [#""\\""#, #"{"a":"\"}"}"#]),
        ]
        for (text, expected) in arrays {
            let bytes = Array(text.utf8)
            var items: [String] = []
            bytes.withUnsafeBytes { raw in
                EnvelopeScan.forEachItem(in: raw, array: 0..<raw.count) {
                    items.append(String(decoding: raw[$0], as: UTF8.self))
                }
            }
            #expect(items == expected, "\(text)")
        }
    }
}
