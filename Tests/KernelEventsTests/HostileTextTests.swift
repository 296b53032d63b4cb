import Testing
@testable import KernelEvents

/// Invalid UTF-8, NUL characters and lone surrogates anywhere in an event: refused with a detail
/// naming what and where, never stored repaired (docs/producers.md,
/// "What the kernel refuses").
@Suite("Hostile text")
struct HostileTextTests {
    /// `text` with its one `~` replaced by `bad`; the byte offset of the replacement.
    private func splice(_ text: String, _ bad: [UInt8]) -> (bytes: [UInt8], offset: Int) {
        let bytes = Array(text.utf8)
        let x = bytes.firstIndex(of: UInt8(ascii: "~"))!
        return (Array(bytes[..<x]) + bad + Array(bytes[(x + 1)...]), x)
    }

    @Test("invalid UTF-8 anywhere is refused with the byte offset and the field, never repaired")
    func invalidUTF8() throws {
        let places: [(String, String)] = [
            (event(payload: #"{"venue":"XNAS","symbol":"A~PL"}"#), "payload.symbol"),
            (event(payload: #"{"legs":[{"px":"1"},{"note":"a~"}]}"#), "payload.legs[1].note"),
            (event(payload: #"{"k~":1}"#), "payload"),
            (event(tags: #"[{"key":"k","value":"a~b"}]"#), "tags[0].value"),
            (event(tags: #"[{"key":"a","value":"b"},{"key":"k~","value":"v"}]"#), "tags[1].key"),
            (#"{"note~":"n","#.appending(event().dropFirst()), "a member name"),
        ]
        let sequences: [[UInt8]] = [[0xFF], [0x80], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80],
                                    [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98]]
        for (text, place) in places {
            for bad in sequences {
                let (bytes, offset) = splice(text, bad)
                guard case .failure(let error) = parse(bytes) else {
                    Issue.record("accepted \(bad) in \(place) (stored repaired)")
                    continue
                }
                #expect(error.reason.rawValue == "invalid_utf8", "\(bad) in \(place): \(error)")
                #expect(error.detail.contains("byte offset \(offset)"), "\(bad) in \(place): \(error)")
                #expect(error.detail.contains(place), "\(bad) in \(place): \(error)")
                #expect(error.detail.utf8.count < 200)
            }
        }
    }

    @Test("well-formed UTF-8 of every length, escaped pairs and an escaped backslash before u0000 pass")
    func wellFormedText() throws {
        let e = try #require(envelope(event(
            payload: #"{"s":"é日本😀\ud83d\ude00","lit":"\\u0000 is six characters","k\u00e9":"\\\\ud800"}"#,
            tags: #"[{"key":"desk","value":"été 😀"}]"#)))
        #expect(e.tags == [EnvelopeTag(key: "desk", value: "été 😀")])
    }

    @Test("a NUL character in any string is refused naming the field")
    func nul() throws {
        let places: [(String, String)] = [
            (event(payload: #"{"venue":"XNAS","symbol":"AA\u0000PL"}"#), "payload.symbol"),
            (event(payload: #"{"a":{"b":["x","\u0000"]}}"#), "payload.a.b[1]"),
            (event(payload: #"{"a\u0000b":1}"#), "payload"),
            (event(eventID: #""0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21\u0000""#), "event_id"),
            (event(ts: #""2024-07-15T14:30:01Z\u0000""#), "ts"),
            (event(tags: #"[{"key":"k\u0000","value":"v"}]"#), "tags[0].key"),
            (event(tags: #"[{"key":"k","value":"\\\u0000"}]"#), "tags[0].value"),
        ]
        for (text, place) in places {
            guard let error = refusal(text) else {
                Issue.record("accepted a NUL in \(place)")
                continue
            }
            #expect(error.reason.rawValue == "nul_character", "\(place): \(error)")
            #expect(error.detail.contains("NUL character"), "\(place): \(error)")
            #expect(error.detail.contains(place), "\(place): \(error)")
            #expect(!error.detail.contains("add_tag"))
        }
    }

    @Test("an escaped lone surrogate is refused: it would be stored as U+FFFD")
    func loneSurrogates() throws {
        for (text, place) in [
            (event(payload: #"{"s":"a\ud800"}"#), "payload.s"),
            (event(payload: #"{"s":"\udc00\ud800"}"#), "payload.s"),
            (event(payload: #"{"s":"\ud800\u0041"}"#), "payload.s"),
            (event(tags: #"[{"key":"k","value":"\uDBFF"}]"#), "tags[0].value"),
        ] {
            let error = try #require(refusal(text), "\(place)")
            #expect(error.reason.rawValue == "lone_surrogate", "\(place): \(error)")
            #expect(error.detail.contains(place), "\(place): \(error)")
        }
    }

    @Test("locations: paths are cut at 64 bytes and show only printable ASCII")
    func locations() throws {
        let longName = String(repeating: "n", count: 100)
        let deep = try #require(refusal(event(payload: #"{"\#(longName)":{"b":"\u0000"}}"#)))
        #expect(deep.detail.contains("payload." + String(repeating: "n", count: 56) + "…"), "\(deep)")
        let odd = try #require(refusal(event(payload: #"{"é\t":"\u0000"}"#)))
        #expect(odd.detail.contains(#"found in payload.??\t at"#), "\(odd)")
        let top = try #require(refusal(#"{"\u0000":1}"#))
        #expect(top.detail.contains("found in a member name in the event"), "\(top)")
        #expect(!deep.detail.unicodeScalars.contains { $0.value < 0x20 })
    }
}
