import KernelRuntime
import KernelRedis
import Logging
import Synchronization

/// Reads one control stream (`P` + the handler's suffix) with the consumer group on a dedicated
/// thread and connection, hands each message to the handler, then acknowledges it on that stream.
///
/// - The group is created with MKSTREAM at `0-0` (messages sent before the first kernel start are
///   processed); "BUSYGROUP" is ignored.
/// - The consumer name is `redis.consumer_name + "-" + suffix`: stable across restarts, so after a
///   restart the consumer first re-reads its own pending messages (those it read but never
///   acknowledged, e.g. a crash mid-handle), then new ones (`>`). docs/architecture.md explains
///   why consumer names are stable rather than new at every start.
/// - COUNT 50; BLOCK at most 1000 ms so `stop` is prompt.
/// - A read error is logged, then after 200 ms the connection is reopened.
/// - Every message is acknowledged after `handle` returns, whatever its outcome (docs/protocol.md, "Streams and fields").
/// - Poison limit: re-reading a pending message counts a delivery. One delivered more than
///   `redis.max_deliveries` times is acknowledged without calling the handler, and logged at
///   error level (`reason_code` `poison_message`): a message whose handling crashes the kernel
///   would otherwise crash it again at every start. Its sender gets no response and retries as
///   after any timeout.
public final class ControlStreamConsumer: @unchecked Sendable {
    // @unchecked: the handler and the context are only touched by the consumer thread after
    // `start`; `stopping` is atomic; `thread` is touched by start/stop, which callers serialize.
    public let handler: any ControlMessageHandler
    public let settings: OnboardingSettings
    /// The full stream key.
    public let stream: String
    /// This consumer's name in the group.
    public let consumerName: String
    let logger: Logger
    let metrics: OnboardingMetrics
    let now: @Sendable () -> Int64
    let blockMs: Int
    static let count = 50
    static let retryDelayMs = 200

    private let stopping = Atomic<Bool>(false)
    private var thread: JoinableThread?

    public init(handler: any ControlMessageHandler, settings: OnboardingSettings, logger: Logger,
                metrics: OnboardingMetrics = OnboardingMetrics(),
                now: @escaping @Sendable () -> Int64 = { ControlContext.wallClockSeconds() }, blockMs: Int = 1000) {
        self.handler = handler
        self.settings = settings
        self.stream = settings.key(handler.streamSuffix)
        self.consumerName = settings.consumerName + "-" + handler.streamSuffix
        self.logger = logger
        self.metrics = metrics
        self.now = now
        self.blockMs = max(1, min(blockMs, 1000))
    }

    /// Creates the consumer group on `stream` (MKSTREAM, from `0-0`); an existing group is fine.
    public static func createGroup(stream: String, group: String, redis: any RedisClient) throws(RedisError) {
        let reply = try redis.command(["XGROUP", "CREATE", stream, group, "0-0", "MKSTREAM"])
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
            throw RedisError(kind: .reply, message: "XGROUP CREATE \(stream): \(message)")
        }
    }

    /// Starts the consumer thread. Call once.
    public func start() {
        guard thread == nil else { return }
        stopping.store(false, ordering: .sequentiallyConsistent)
        thread = JoinableThread(name: "ctl-" + handler.streamSuffix) { [self] in run() }
    }

    /// Stops reading and waits for the thread (at most one BLOCK period plus the message being
    /// handled).
    public func stop() {
        requestStop()
        thread?.join()
        thread = nil
    }

    /// Asks the thread to stop without waiting (stopping several consumers in parallel).
    public func requestStop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func run() {
        var context: ControlContext?
        while !isStopping {
            do {
                let redis = try settings.redis.connectClient()
                // A BLOCK read needs a socket timeout longer than the block (docs/platform-notes.md, "hiredis 0.14 and 1.x").
                redis.setTimeout(ms: max(settings.redis.commandTimeoutMs, blockMs + 2000))
                try Self.createGroup(stream: stream, group: settings.consumerGroup, redis: redis)
                if let context {
                    context.redis = redis
                } else {
                    context = ControlContext(redis: redis, settings: settings, logger: logger, metrics: metrics, now: now)
                }
                try drainOwnPending(redis, context!)
                while !isStopping {
                    try readNew(redis, context!)
                }
            } catch {
                context?.redis.close()
                if isStopping { break }
                logger.error("control stream read failed; reconnecting", metadata: [
                    "event": "infra", "component": "onboarding", "stage": "read", "outcome": "failure",
                    "stream": .string(stream), "reason_code": .string(error.kind.rawValue), "details": .string(error.message),
                ])
                sleepMs(Self.retryDelayMs)
            }
        }
        context?.redis.close()
    }

    /// Re-reads this consumer's pending messages from the start, in pages.
    private func drainOwnPending(_ redis: any RedisClient, _ context: ControlContext) throws(RedisError) {
        var cursor = "0-0"
        while !isStopping {
            let reply = try redis.command(["XREADGROUP", "GROUP", settings.consumerGroup, consumerName,
                                           "COUNT", String(Self.count), "STREAMS", stream, cursor])
            let entries = try Self.entries(of: reply)
            guard let first = entries.first, let last = entries.last else { return }
            cursor = last.id
            try process(entries, context, deliveries: try deliveryCounts(redis, from: first.id, to: last.id, count: entries.count))
        }
    }

    /// Times each pending message of this consumer in `from...to` was delivered (XPENDING).
    private func deliveryCounts(_ redis: any RedisClient, from: String, to: String,
                                count: Int) throws(RedisError) -> [String: Int] {
        let reply = try redis.command(["XPENDING", stream, settings.consumerGroup, from, to, String(count), consumerName])
        var counts: [String: Int] = [:]
        for row in reply.array ?? [] {
            guard let fields = row.array, fields.count >= 4, let id = fields[0].text, let n = fields[3].integer else { continue }
            counts[id] = Int(n)
        }
        return counts
    }

    private func readNew(_ redis: any RedisClient, _ context: ControlContext) throws(RedisError) {
        let reply = try redis.command(["XREADGROUP", "GROUP", settings.consumerGroup, consumerName,
                                       "COUNT", String(Self.count), "BLOCK", String(blockMs), "STREAMS", stream, ">"])
        try process(try Self.entries(of: reply), context)
    }

    private func process(_ entries: [Entry], _ context: ControlContext,
                         deliveries: [String: Int] = [:]) throws(RedisError) {
        for entry in entries {
            if let n = deliveries[entry.id], n > settings.maxDeliveries {
                logger.error("control message dead-lettered: delivered too often", metadata: [
                    "event": "infra", "component": "onboarding", "stage": "read", "outcome": "failure",
                    "reason_code": "poison_message", "stream": .string(stream), "entry_id": .string(entry.id),
                    "details": .string("delivered \(n) times (max_deliveries \(settings.maxDeliveries)); acknowledged without handling"),
                ])
            } else if let message = entry.message {
                // A pending entry whose message was deleted (XDEL, trimming) comes back without
                // fields: nothing to handle, acknowledge it.
                handler.handle(message, context: context)
            }
            let reply = try context.redis.command(["XACK", stream, settings.consumerGroup, entry.id])
            if case .error(let message) = reply {
                logger.warning("control message not acknowledged", metadata: [
                    "event": "infra", "component": "onboarding", "stream": .string(stream), "details": .string(message),
                ])
            }
        }
    }

    struct Entry {
        var id: String
        var message: ControlMessage?
    }

    /// The entries of an XREADGROUP reply for one stream.
    static func entries(of reply: RedisReply) throws(RedisError) -> [Entry] {
        switch reply {
        case .null: return []
        case .error(let message):
            // NOGROUP after a FLUSHALL or a deleted stream: reconnect recreates the group.
            throw RedisError(kind: message.hasPrefix("NOGROUP") ? .io : .reply, message: message)
        case .array(let streams):
            guard let first = streams.first?.array, first.count >= 2, let items = first[1].array else { return [] }
            return items.compactMap { item -> Entry? in
                guard let pair = item.array, pair.count >= 1, let id = pair[0].text else { return nil }
                guard pair.count >= 2, let flat = pair[1].array else { return Entry(id: id, message: nil) }
                var fields: [String: [UInt8]] = [:]
                var i = 0
                while i + 1 < flat.count {
                    if case .string(let name) = flat[i], case .string(let value) = flat[i + 1] {
                        fields[String(decoding: name, as: UTF8.self)] = value
                    }
                    i += 2
                }
                return Entry(id: id, message: ControlMessage(id: id, fields: fields))
            }
        default: return []
        }
    }
}
