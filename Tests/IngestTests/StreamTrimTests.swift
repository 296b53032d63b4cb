import Foundation
import KernelConfig
import KernelCore
import KernelRedis
import Testing

@Suite("redis.maxlen_approx trims the event stream after acks")
struct StreamTrimTests {
    @Test func acknowledgedStreamIsTrimmedNearTheLimit() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let (_, subject, _, token) = try h.boundProducer()
        var config = try h.config(batchSize: 200)
        config.redis.maxlenApprox = 100
        let daemon = Daemon(config: config, logger: h.logger)
        try daemon.start()
        defer { daemon.stop() }
        let total = 3000
        for i in 0..<total {
            try h.publish(payload: IngestHarness.envelope(
                subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(100 + i % 50)","size":"1"}"#), token: token)
        }
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") == total && h.pendingCount() == 0 })
        // Trimming runs at most once a second per stream: publish a little more after a pause so
        // a trim follows the last acks.
        Thread.sleep(forTimeInterval: 1.1)
        try h.publish(payload: IngestHarness.envelope(
            subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"1","size":"1"}"#), token: token)
        #expect(h.waitUntil(timeout: 30) { try h.count("SELECT count(*) FROM md_trade") == total + 1 && h.pendingCount() == 0 })
        // MAXLEN ~ removes whole stream nodes (100 entries each by default), so the length lands
        // between the limit and the limit plus a node or so, far below what was published.
        let length = try h.redis.command(["XLEN", h.streamKey]).integer ?? -1
        #expect(length >= 100 && length < 400, "XLEN \(length) after \(total + 1) entries with maxlen_approx 100")
        #expect(try h.deadLetters().isEmpty)
    }
}
