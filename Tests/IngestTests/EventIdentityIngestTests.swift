import Foundation
import KernelCore
import KernelEvents
import Testing

/// `event_id` is the identity, through a real kernel (docs/producers.md, "Event identity").
@Suite("Event identity through the kernel")
struct EventIdentityIngestTests {
    @Test func aRepeatedEventIDWithAnotherTsIsDeadLetteredAndTheSameCopyCountsAsADuplicate() throws {
        try IngestHarness.withRunningKernel { h, bound, daemon in
            let (_, subject, _, token) = bound
            let id = UUID()
            let trade = #"{"venue":"XNAS","symbol":"AAPL","price":"187.25","size":"100","side":"buy"}"#
            let first = IngestHarness.envelope(subject: subject, payload: trade, eventID: id, ts: Date())
            try h.publish(payload: first, token: token, id: "first")
            #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 })
            // The same id, ts a second later: another event reusing the id.
            let other = IngestHarness.envelope(subject: subject, payload: trade, eventID: id, ts: Date().addingTimeInterval(1))
            try h.publish(payload: other, token: token, id: "second")
            // The same bytes again: a retry.
            try h.publish(payload: first, token: token, id: "retry")
            #expect(h.waitUntil { try h.pendingCount() == 0 && h.deadLetters().count == 1 })
            #expect(h.waitUntil { daemon.pipeline!.metrics.duplicateEventsTotal.load(ordering: .relaxed) == 1 })
            #expect(try h.count("SELECT count(*) FROM md_trade WHERE event_id = '\(id.uuidString.lowercased())'") == 1)
            let letters = try h.deadLetters()
            #expect(letters.map(\.id) == ["second"])
            #expect(letters.first?.reason == "event_id_conflict")
            #expect(letters.first?.detail.contains("already stored with other content") == true)
            #expect(letters.first?.payload == other, "the DLQ keeps the bytes the producer sent")
        }
    }
}
