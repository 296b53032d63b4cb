import Foundation
import KernelCore
import Testing

/// `redis.read_pause_ms` through a real kernel and Redis: after a short read the reader waits,
/// so a trickle of producer sends is read a few at a time instead of one read (and one wake-up of
/// every stage) per send (docs/operations.md, "Throughput, latency and memory: the batching keys").
@Suite("Reading at low rates")
struct LowRateReadingTests {
    @Test func aTrickleOfSendsIsReadSeveralAtATimeAndStoredOnce() throws {
        try IngestHarness.withRunningKernel(configure: { h in h.redisLines = ["read_pause_ms: 100"] }) { h, bound, daemon in
            let (_, subject, _, token) = bound
            let trade = #"{"venue":"XNAS","symbol":"AAPL","price":"187.25","size":"100","side":"buy"}"#
            let sends = 40
            let started = Date()
            for _ in 0..<sends {
                try h.publish(payload: IngestHarness.envelope(subject: subject, payload: trade), token: token)
                usleep(10_000)
            }
            let publishing = Date().timeIntervalSince(started)
            #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == sends && h.pendingCount() == 0 })
            let reads = daemon.pipeline!.metrics.readCallsTotal.load(ordering: .relaxed)
            // Every read of under 50 entries is followed by at least 100 ms of waiting, however
            // busy the machine: over the publishing time that bounds the reads, whereas reading at
            // once would take about one read per send.
            let bound = Int(publishing / 0.1) + 2
            #expect(reads <= bound, "\(reads) reads of \(sends) sends in \(publishing) s (at most \(bound) with a 100 ms pause)")
            #expect(reads < sends)
            #expect(daemon.pipeline!.metrics.readTotal.load(ordering: .relaxed) == sends)
            #expect(try h.deadLetters().isEmpty)
        }
    }
}
