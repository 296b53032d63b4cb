import KernelTestSupport
import Testing
import KernelJSON
@testable import KernelEvents

@Suite("Hostile envelopes")
struct HostileEnvelopeTests {
    /// A parse outcome must be self-consistent: an accepted envelope's payload range lies inside the
    /// input and holds an object; a refusal has a non-empty, bounded detail.
    private func checkOutcome(_ bytes: [UInt8], _ label: @autoclosure () -> String) {
        switch parse(bytes) {
        case .success(let e):
            #expect(e.payloadRange.lowerBound >= 0 && e.payloadRange.upperBound <= bytes.count, "\(label())")
            #expect(bytes[e.payloadRange.lowerBound] == UInt8(ascii: "{"), "\(label())")
            #expect(bytes[e.payloadRange.upperBound - 1] == UInt8(ascii: "}"), "\(label())")
            #expect(e.tags.allSatisfy { !$0.key.isEmpty && !$0.value.isEmpty }, "\(label())")
        case .failure(let error):
            #expect(!error.detail.isEmpty && error.detail.utf8.count < 200, "\(label())")
        }
    }

    @Test("every proper prefix of the sample is refused as malformed JSON")
    func prefixes() {
        #expect(SampleEvents.truncatedTrade.count > 400)
        for (n, prefix) in SampleEvents.truncatedTrade.enumerated() {
            #expect(refusalReason(prefix) == .malformedJSON, "prefix \(n)")
        }
        #expect(refusalReason(Array(sampleEvent.utf8)) == nil)
    }

    @Test("every single-byte deletion never crashes")
    func deletions() {
        let bytes = Array(sampleEvent.utf8)
        for i in bytes.indices {
            var copy = bytes
            copy.remove(at: i)
            checkOutcome(copy, "delete \(i)")
        }
    }

    @Test("byte flips with a fixed seed: always a valid envelope or an EnvelopeError")
    func byteFlips() {
        let bytes = Array(sampleEvent.utf8)
        var rng = SplitMix64(seed: 0xE1E7)
        let interesting: [UInt8] = Array(#"{}[]",:\-+.0123456789eEtfnulZT "#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
        var accepted = 0
        for round in 0..<6_000 {
            var copy = bytes
            let flips = 1 + Int(rng.next() % 4)
            for _ in 0..<flips {
                let i = Int(rng.next() % UInt64(copy.count))
                copy[i] = rng.next() % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next())
                    : interesting[Int(rng.next() % UInt64(interesting.count))]
            }
            if case .success = parse(copy) { accepted += 1 }
            checkOutcome(copy, "round \(round)")
        }
        // Some mutations land inside the payload or tag text and stay valid; most do not.
        #expect(accepted > 0 && accepted < 6_000)
    }

    @Test("random splices of envelope fragments never crash")
    func splices() {
        let fragments = [
            "{", "}", "[", "]", ",", ":", #""event_id""#, #""ts""#, #""subject_id""#, #""payload""#, #""tags""#,
            #""key""#, #""value""#, #""0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21""#, #""2024-07-15T14:30:01Z""#,
            #""\u00""#, #""\ud800""#, "\\", "\"", "null", "1e999", "-0", " ", "\u{0}", "{}", "[]",
        ].map { Array($0.utf8) }
        var rng = SplitMix64(seed: 42)
        for round in 0..<3_000 {
            var input: [UInt8] = Array(#"{"event_id":"0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21","#.utf8)
            for _ in 0..<Int(rng.next() % 12) { input += fragments[Int(rng.next() % UInt64(fragments.count))] }
            checkOutcome(input, "splice \(round)")
        }
    }

    @Test("deep nesting is refused as malformed, within the payload or at top level")
    func deepNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(refusal(deep)?.reason == .malformedJSON)
        #expect(refusal(event(payload: #"{"a":"# + deep + "}"))?.reason == .malformedJSON)
        #expect(refusal(event(tags: deep))?.reason == .malformedJSON)
        // 62 levels inside the payload (64 with the envelope and payload objects) is still fine.
        let ok = String(repeating: "[", count: 62) + String(repeating: "]", count: 62)
        #expect(envelope(event(payload: #"{"a":"# + ok + "}")) != nil)
    }

    @Test("a large tags array with hostile items parses without trouble")
    func manyTags() throws {
        var items: [String] = []
        for i in 0..<5_000 {
            items.append(i % 3 == 0 ? #"{"key":"k\#(i)","value":"v"}"# : (i % 3 == 1 ? #"[{"key":"x"}]"# : #""\"}""#))
        }
        let text = event(tags: "[" + items.joined(separator: ",") + "]")
        let e = try EventEnvelope.parse(Array(text.utf8), limits: EnvelopeLimits(maxTags: 2_000))
        #expect(e.tags.count == 1_667)
        #expect(e.tags.first == EnvelopeTag(key: "k0", value: "v"))
        // With the default limit the same event is refused at its 33rd usable tag (item 96).
        #expect(refusal(text)?.detail == "tags holds more than 32 tags (at item 96); server.max_event_tags is 32")
    }

    private func refusalReason(_ bytes: [UInt8]) -> EnvelopeError.Reason? {
        if case .failure(let e) = parse(bytes) { return e.reason }
        return nil
    }
}
