import Foundation
import KernelCore
import KernelEvents
import Testing

/// Metrics that were registered but never updated are now fed by the pipeline: the activity
/// gauges, the end-to-end lag, the ack latency and the per-chunk time (docs/admin.md).
@Suite("Ingest metrics are updated")
struct IngestMetricsTests {
    @Test func activityLagAckAndChunkMetricsMove() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let producer = try h.producer()
        let token = try h.token(for: producer)
        let a = try h.subject(family: "trade").subject, b = try h.subject(family: "trade").subject
        try h.bind(producer, a)
        try h.bind(producer, b)
        let daemon = try h.startDaemon()
        defer { daemon.stop() }
        let trade = #"{"venue":"XNAS","symbol":"AAPL","price":"187.25","size":"100","side":"buy"}"#
        for subject in [a, b, a] { try h.publish(payload: IngestHarness.envelope(subject: subject, payload: trade), token: token) }
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 3 && h.pendingCount() == 0 })
        let active = daemon.pipeline!.metrics.activity.active(now: Date().timeIntervalSince1970)
        #expect(active.producers == 1 && active.subjects == 2, "\(active)")
        let text = daemon.metrics.render()
        for family in ["kernel_end_to_end_lag_seconds", "kernel_redis_ack_latency_seconds", "kernel_redis_batch_seconds"] {
            let count = text.split(separator: "\n").first { $0.hasPrefix(family + "_count") }
            #expect(count.map { !$0.hasSuffix(" 0") } == true, "\(family): \(count ?? "absent")")
        }
    }
}
