import Testing
@testable import KernelEvents

/// The envelope's `tags` within `EnvelopeLimits` (config `server.max_event_tags`,
/// `server.max_tag_key_bytes`, `server.max_tag_value_bytes`; docs/producers.md, "Limits"): an event
/// over a limit is refused whole, naming the limit, so one event cannot flood `event_tags` or the
/// global `tags` dictionary.
@Suite("Envelope tag limits")
struct TagLimitTests {
    private func tags(_ count: Int, key: (Int) -> String = { "k\($0)" }, value: String = "v") -> String {
        "[" + (0..<count).map { #"{"key":"\#(key($0))","value":"\#(value)"}"# }.joined(separator: ",") + "]"
    }

    @Test("tags: at most 32 by default; 10 000 are refused naming server.max_event_tags")
    func tagCount() throws {
        #expect(envelope(event(tags: tags(32)))?.tags.count == 32)
        for count in [33, 10_000] {
            let error = try #require(refusal(event(tags: tags(count))), "\(count) tags")
            #expect(error.reason.rawValue == "too_many_tags")
            #expect(error.detail.contains("server.max_event_tags is 32"), "\(error)")
        }
        // Items that are skipped anyway (not objects, empty key or value) do not count.
        let skipped = "[" + Array(repeating: #"1,{"key":"","value":"x"}"#, count: 100).joined(separator: ",")
            + "," + tags(32).dropFirst()
        #expect(envelope(event(tags: skipped))?.tags.count == 32)
    }

    @Test("tags: key and value at most 256 bytes (decoded) by default, like a plugin's add_tag")
    func tagBytes() throws {
        let key256 = String(repeating: "k", count: 256), value256 = String(repeating: "é", count: 128)
        #expect(envelope(event(tags: tags(1, key: { _ in key256 }, value: value256)))?.tags.count == 1)
        // Escapes count by what they decode to: 128 × \u00e9 is 768 bytes of text, 256 decoded.
        let escaped = String(repeating: "\\u00e9", count: 128)
        #expect(envelope(event(tags: tags(1, key: { _ in escaped }, value: escaped)))?.tags.count == 1)

        let longKey = try #require(refusal(event(tags: tags(2, key: { $0 == 1 ? String(repeating: "k", count: 1000) : "a" }))))
        #expect(longKey.reason.rawValue == "tag_key_too_long")
        #expect(longKey.detail.contains("tags[1].key is 1000 bytes"), "\(longKey)")
        #expect(longKey.detail.contains("server.max_tag_key_bytes is 256"), "\(longKey)")

        let longValue = try #require(refusal(event(tags: tags(1, value: value256 + "é"))))
        #expect(longValue.reason.rawValue == "tag_value_too_long")
        #expect(longValue.detail.contains("tags[0].value is 258 bytes"), "\(longValue)")
        #expect(longValue.detail.contains("server.max_tag_value_bytes is 256"), "\(longValue)")
    }

    @Test("the limits are the caller's: configured counts and byte sizes apply")
    func configuredLimits() throws {
        let limits = EnvelopeLimits(maxTags: 2, maxTagKeyBytes: 4, maxTagValueBytes: 2)
        func parse(_ text: String) -> Result<EventEnvelope, EnvelopeError> {
            do throws(EnvelopeError) { return .success(try EventEnvelope.parse(Array(text.utf8), limits: limits)) } catch {
                return .failure(error)
            }
        }
        guard case .success(let e) = parse(event(tags: #"[{"key":"abcd","value":"é"},{"key":"k","value":"v"}]"#)) else {
            Issue.record("refused within the limits")
            return
        }
        #expect(e.tags.count == 2)
        for (tags, detail) in [
            (tags(3), "tags holds more than 2 tags (at item 2); server.max_event_tags is 2"),
            (#"[{"key":"abcde","value":"v"}]"#, "tags[0].key is 5 bytes; server.max_tag_key_bytes is 4"),
            (#"[{"key":"k","value":"abc"}]"#, "tags[0].value is 3 bytes; server.max_tag_value_bytes is 2"),
        ] {
            guard case .failure(let error) = parse(event(tags: tags)) else {
                Issue.record("accepted \(tags)")
                continue
            }
            #expect(error.detail == detail)
        }
        // No tags allowed: any usable tag refuses the event; skipped items still do not count.
        let none = EnvelopeLimits(maxTags: 0)
        #expect(throws: EnvelopeError.self) { try EventEnvelope.parse(Array(event(tags: tags(1)).utf8), limits: none) }
        #expect(try EventEnvelope.parse(Array(event(tags: #"[1,{"key":""}]"#).utf8), limits: none).tags.isEmpty)
    }
}
