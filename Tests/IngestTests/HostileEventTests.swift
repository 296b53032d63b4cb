import Foundation
import KernelCore
import KernelEvents
import Testing

/// Hostile envelopes through a real kernel: invalid UTF-8, a NUL character, too many and too long
/// tags are dead-lettered `bad_event_json` with a detail that says what and where, and nothing of
/// them reaches Postgres (docs/producers.md, "What the kernel refuses").
@Suite("Hostile events", .serialized)
struct HostileEventTests {
    static let good = #"{"venue":"XNAS","symbol":"AAPL","price":"1.5","size":"1"}"#

    /// 33 tags, one more than `server.max_event_tags` allows by default.
    static func tags(_ count: Int, key: (Int) -> String = { "t\($0)" }) -> String {
        "[" + (0..<count).map { #"{"key":"\#(key($0))","value":"v\#($0)"}"# }.joined(separator: ",") + "]"
    }

    @Test func hostileEventsAreDeadLetteredAndNothingOfThemIsStored() throws {
        try IngestHarness.withRunningKernel { h, bound, _ in
            let (_, subject, _, token) = bound

            // Invalid UTF-8 (0xFF) inside the payload's symbol: raw bytes, so published as bytes.
            let utf8Text = IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"A~PL","price":"1.5","size":"1"}"#)
            var utf8Bytes = Array(utf8Text.utf8)
            let x = utf8Bytes.firstIndex(of: UInt8(ascii: "~"))!
            utf8Bytes[x] = 0xFF
            try h.publish(bytes: utf8Bytes, token: token, id: "bad-utf8")
            let cases: [(id: String, payload: String, detail: [String])] = [
                ("nul", IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AA\u0000PL","price":"1.5","size":"1"}"#),
                 ["NUL character", "payload.symbol"]),
                ("many-tags", IngestHarness.envelope(subject: subject, payload: Self.good, tags: Self.tags(33)),
                 ["server.max_event_tags is 32"]),
                ("long-key", IngestHarness.envelope(subject: subject, payload: Self.good,
                                                    tags: Self.tags(1) { _ in String(repeating: "k", count: 1000) }),
                 ["tags[0].key is 1000 bytes", "server.max_tag_key_bytes is 256"]),
            ]
            for c in cases { try h.publish(payload: c.payload, token: token, id: c.id) }
            let goodID = UUID()
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: Self.good, eventID: goodID, tags: Self.tags(32)),
                          token: token, id: "good")

            #expect(h.waitUntil { try h.deadLetters().count == cases.count + 1 }, "\(String(describing: try? h.deadLetters()))")
            #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 })
            let letters = Dictionary(uniqueKeysWithValues: try h.deadLetters().map { ($0.id, $0) })
            let utf8Letter = letters["bad-utf8"]
            #expect(utf8Letter?.reason == "bad_event_json")
            #expect(utf8Letter?.detail.contains("invalid UTF-8 at byte offset \(x)") == true, "\(String(describing: utf8Letter))")
            #expect(utf8Letter?.detail.contains("payload.symbol") == true, "\(String(describing: utf8Letter))")
            for c in cases {
                #expect(letters[c.id]?.reason == "bad_event_json", "\(c.id): \(String(describing: letters[c.id]))")
                for part in c.detail {
                    #expect(letters[c.id]?.detail.contains(part) == true, "\(c.id): \(String(describing: letters[c.id]))")
                }
                #expect(letters[c.id]?.payload == c.payload, "\(c.id): the DLQ keeps the original payload")
            }
            #expect(try h.count("SELECT count(*) FROM md_trade WHERE event_id = '\(goodID.uuidString.lowercased())'") == 1)
            #expect(try h.count("SELECT count(*) FROM md_trade WHERE symbol <> 'AAPL'") == 0, "nothing stored repaired")
            // The good event's 32 envelope tags and the plugin's two; nothing of the refused ones.
            #expect(try h.count("SELECT count(*) FROM event_tag_links") == 34)
            #expect(try h.count("SELECT count(*) FROM tags WHERE length(key) > 256 OR key ~ '^t(3[2-9]|[4-9][0-9])$'") == 0)
            #expect(h.waitUntil { try h.pendingCount() == 0 }, "every dead letter is acknowledged")
        }
    }

    @Test func tagLimitsComeFromTheServerSection() throws {
        try IngestHarness.withRunningKernel(configure: { h in h.serverLines = ["max_event_tags: 2", "max_tag_key_bytes: 8", "max_tag_value_bytes: 3"] }) { h, bound, _ in
            let (_, subject, _, token) = bound
            let cases: [(id: String, tags: String, detail: String)] = [
                ("three", Self.tags(3), "server.max_event_tags is 2"),
                ("key", #"[{"key":"ninebytes","value":"v"}]"#, "tags[0].key is 9 bytes; server.max_tag_key_bytes is 8"),
                ("value", #"[{"key":"k","value":"four"}]"#, "tags[0].value is 4 bytes; server.max_tag_value_bytes is 3"),
                ("fits", #"[{"key":"eightbyt","value":"abc"},{"key":"k","value":"é"}]"#, ""),
            ]
            for c in cases {
                try h.publish(payload: IngestHarness.envelope(subject: subject, payload: Self.good, tags: c.tags), token: token, id: c.id)
            }
            #expect(h.waitUntil { try h.deadLetters().count == 3 && h.count("SELECT count(*) FROM md_trade") == 1 },
                    "\(String(describing: try? h.deadLetters()))")
            let letters = Dictionary(uniqueKeysWithValues: try h.deadLetters().map { ($0.id, $0) })
            for c in cases where !c.detail.isEmpty {
                #expect(letters[c.id]?.reason == "bad_event_json", "\(c.id)")
                #expect(letters[c.id]?.detail.contains(c.detail) == true, "\(c.id): \(String(describing: letters[c.id]))")
            }
            #expect(try h.count("SELECT count(*) FROM event_tag_links et JOIN tags t USING (tag_id) WHERE t.key = 'eightbyt'") == 1)
        }
    }

    @Test func aProducerPastItsTagBudgetIsDeadLetteredTagBudgetExceeded() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        // The trade plugin adds two tags of its own: the first event adds 3 dictionary rows, the
        // second 1 more, the third would pass the budget of 4.
        h.serverLines = ["max_tags_per_producer: 4"]
        let (_, subject, _, token) = try h.boundProducer()
        let daemon = try h.startDaemon()
        defer { daemon.stop() }
        for i in 1...3 {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: Self.good,
                                                          tags: #"[{"key":"order","value":"o\#(i)"}]"#),
                          token: token, id: "order-\(i)")
            #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") + h.deadLetters().count == i })
        }
        let letters = try h.deadLetters()
        #expect(letters.map(\.id) == ["order-3"], "\(letters)")
        #expect(letters.first?.reason == "tag_budget_exceeded")
        #expect(letters.first?.detail.contains("server.max_tags_per_producer") == true, "\(letters)")
        #expect(try h.count("SELECT count(*) FROM tags WHERE key = 'order'") == 2)
        // A tag the dictionary has costs nothing: the producer at its budget goes on.
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: Self.good,
                                                      tags: #"[{"key":"order","value":"o1"}]"#), token: token, id: "again")
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 3 })
        #expect(h.waitUntil { try h.pendingCount() == 0 }, "the dead letter is acknowledged")
    }
}

extension IngestHarness {
    /// `XADD` with a payload that need not be UTF-8.
    @discardableResult
    func publish(bytes payload: [UInt8], token: String, id: String) throws -> String {
        try redis.command([Array("XADD".utf8), Array(streamKey.utf8), Array("*".utf8), Array("payload".utf8), payload,
                           Array("token".utf8), Array(token.utf8), Array("id".utf8), Array(id.utf8)]).text!
    }
}
