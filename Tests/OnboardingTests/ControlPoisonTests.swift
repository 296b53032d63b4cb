import Foundation
@testable import KernelOnboarding
import KernelRedis
import KernelTestSupport
import Synchronization
import Testing

/// The poison limit of the control streams: a pending message re-read more than
/// `redis.max_deliveries` times (its handling crashed the kernel at every start) is acknowledged
/// without calling the handler; messages below the limit are handled as usual.
@Suite("Control stream poison limit")
struct ControlPoisonTests {
    /// Records the ids of the messages it is given.
    final class RecordingHandler: ControlMessageHandler, @unchecked Sendable {
        let streamSuffix = "poison:test"
        private let seen = Mutex<[String]>([])
        var ids: [String] { seen.withLock { $0 } }
        func handle(_ message: ControlMessage, context: ControlContext) {
            seen.withLock { $0.append(message.id) }
        }
    }

    @Test func pendingMessagePastMaxDeliveriesIsAcknowledgedWithoutHandling() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        #expect(settings.maxDeliveries == 5, "the default of redis.max_deliveries")
        let handler = RecordingHandler()
        let stream = settings.key(handler.streamSuffix)
        let consumer = settings.consumerName + "-" + handler.streamSuffix
        try ControlStreamConsumer.createGroup(stream: stream, group: settings.consumerGroup, redis: h.redis)
        let poison = try h.send(handler.streamSuffix, [("payload", "crashes the handler")])
        let retried = try h.send(handler.streamSuffix, [("payload", "crashed once")])
        // Both read by this kernel's consumer before a "crash": pending, one delivery each.
        _ = try h.redis.command(["XREADGROUP", "GROUP", settings.consumerGroup, consumer, "COUNT", "10",
                                 "STREAMS", stream, ">"])
        // The first has been re-read at five earlier starts: its count is at the limit, and the
        // re-read at this start takes it past. The second was re-read once.
        _ = try h.redis.command(["XCLAIM", stream, settings.consumerGroup, consumer, "0", poison, "RETRYCOUNT", "5"])
        _ = try h.redis.command(["XCLAIM", stream, settings.consumerGroup, consumer, "0", retried, "RETRYCOUNT", "2"])
        let fresh = try h.send(handler.streamSuffix, [("payload", "new")])

        let logs = CapturedLogs()
        let reader = ControlStreamConsumer(handler: handler, settings: settings, logger: logs.logger(), blockMs: 100)
        reader.start()
        defer { reader.stop() }
        #expect(h.waitUntil { try handler.ids.count == 2 && h.pendingCount(handler.streamSuffix) == 0 })
        #expect(handler.ids == [retried, fresh], "the poison message is never handed to the handler")
        let dead = logs.all.filter { $0.metadata["reason_code"] == "poison_message" }
        #expect(dead.count == 1)
        #expect(dead.first?.level == .error)
        #expect(dead.first?.metadata["entry_id"] == poison)
        #expect(dead.first?.metadata["details"]?.contains("delivered 6 times") == true)
    }
}
