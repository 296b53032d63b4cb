import KernelRedis
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Reads the event stream with the consumer group on its own thread and connection, and hands
/// entries to the pipeline through a bounded queue: when the queue is full, `put` blocks and the
/// reader stops reading (backpressure; Redis keeps the backlog, the kernel's memory stays flat).
///
/// At start and after every reconnect it first re-reads its own pending entries (delivered to this
/// consumer but never acknowledged), skipping those still in flight, then reads new ones (`>`).
/// Every `claimIdleMs` it also claims entries other consumers left pending that long (XAUTOCLAIM),
/// so the work of a kernel that died is finished. Entries delivered more than `maxDeliveries`
/// times go straight to the DLQ as `poison_message`, without being processed again.
public final class StreamReader: @unchecked Sendable {
    // @unchecked: all mutable state is confined to the reader thread.
    public struct Options: Sendable {
        public var stream: String
        public var group: String
        public var consumer: String
        public var count: Int
        public var blockMs: Int
        public var maxDeliveries: Int
        public var claimIdleMs: Int
    }

    let options: Options
    let settings: RedisSettings
    let output: BlockingQueue<[StreamEntry]>
    let acks: BlockingQueue<AckWork>
    let inflight: InflightSet
    let stop: StopFlag
    let logger: Logger
    let metrics: PipelineMetrics

    private var connection: RedisConnection?
    private var lastClaim: Double = 0

    init(options: Options, settings: RedisSettings, output: BlockingQueue<[StreamEntry]>, acks: BlockingQueue<AckWork>,
         inflight: InflightSet, stop: StopFlag, metrics: PipelineMetrics, logger: Logger) {
        self.options = options
        self.settings = settings
        self.output = output
        self.acks = acks
        self.inflight = inflight
        self.stop = stop
        self.metrics = metrics
        self.logger = logger
    }

    /// The reader thread's body; returns when `stop` is set.
    func run() {
        var backoff = Backoff(baseMs: 500, maxMs: 5000)
        while !stop.isSet {
            do {
                let redis = try connectAndPrepare()
                backoff.reset()
                try drainOwnPending(redis)
                while !stop.isSet {
                    try claimAbandoned(redis)
                    try readNew(redis)
                }
            } catch {
                connection?.close()
                connection = nil
                if stop.isSet { break }
                let delay = backoff.nextDelayMs()
                logger.error("event stream read failed; reconnecting", metadata: [
                    "event": "infra", "component": "reader", "reason_code": .string(error.kind.rawValue),
                    "details": .string(error.message), "retry_ms": "\(delay)",
                ])
                sleepMs(delay)
            }
        }
        connection?.close()
        connection = nil
    }

    private func connectAndPrepare() throws(RedisError) -> RedisConnection {
        let redis = try settings.connect()
        // A BLOCK read needs a socket timeout longer than the block (PITFALLS.md).
        redis.setTimeout(ms: max(settings.commandTimeoutMs, blockMs + 2000))
        let reply = try redis.command(["XGROUP", "CREATE", options.stream, options.group, "0-0", "MKSTREAM"])
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
            throw RedisError(kind: .reply, message: "XGROUP CREATE: \(message)")
        }
        connection = redis
        return redis
    }

    /// Shutdown waits at most this long for a blocked read to return.
    private var blockMs: Int { min(options.blockMs, 1000) }

    /// Re-reads this consumer's pending list from the start ("0"), in pages.
    private func drainOwnPending(_ redis: RedisConnection) throws(RedisError) {
        var cursor = "0-0"
        while !stop.isSet {
            let reply = try redis.command(["XREADGROUP", "GROUP", options.group, options.consumer,
                                           "COUNT", String(options.count), "STREAMS", options.stream, cursor])
            let entries = try entriesOf(reply, deliveries: 0, mayBeRedelivery: true)
            guard let last = entries.last else { return }
            cursor = last.id
            try dispatch(redis, withDeliveryCounts(redis, entries))
        }
    }

    /// Claims entries idle longer than `claimIdleMs` in other consumers' pending lists.
    private func claimAbandoned(_ redis: RedisConnection) throws(RedisError) {
        let now = monotonicSeconds()
        guard now - lastClaim >= Double(options.claimIdleMs) / 1000 else { return }
        lastClaim = now
        var cursor = "0-0"
        repeat {
            let reply = try redis.command(["XAUTOCLAIM", options.stream, options.group, options.consumer,
                                           String(options.claimIdleMs), cursor, "COUNT", String(options.count)])
            if case .error(let message) = reply { throw RedisError(kind: .reply, message: "XAUTOCLAIM: \(message)") }
            guard let parts = reply.array, parts.count >= 2 else { return }
            cursor = parts[0].text ?? "0-0"
            let entries = StreamEntry.parseList(parts[1], deliveries: 0, mayBeRedelivery: true)
            if !entries.isEmpty {
                logger.info("claimed abandoned entries", metadata: [
                    "event": "infra", "component": "reader", "count": "\(entries.count)",
                ])
                try dispatch(redis, withDeliveryCounts(redis, entries))
            }
            // Redis 7 also returns ids it removed from the PEL because the entries were deleted.
        } while cursor != "0-0" && !stop.isSet
    }

    private func readNew(_ redis: RedisConnection) throws(RedisError) {
        let reply = try redis.command(["XREADGROUP", "GROUP", options.group, options.consumer, "COUNT", String(options.count),
                                       "BLOCK", String(blockMs), "STREAMS", options.stream, ">"])
        let entries = try entriesOf(reply, deliveries: 1, mayBeRedelivery: false)
        if !entries.isEmpty { try dispatch(redis, entries) }
    }

    private func entriesOf(_ reply: RedisReply, deliveries: Int, mayBeRedelivery: Bool) throws(RedisError) -> [StreamEntry] {
        switch reply {
        case .null: return []
        case .error(let message):
            // NOGROUP after a FLUSHALL or a deleted stream: recreate on reconnect.
            throw RedisError(kind: message.hasPrefix("NOGROUP") ? .io : .reply, message: message)
        case .array(let streams):
            guard let first = streams.first?.array, first.count >= 2 else { return [] }
            return StreamEntry.parseList(first[1], deliveries: deliveries, mayBeRedelivery: mayBeRedelivery)
        default: return []
        }
    }

    /// Fills `deliveries` from the pending list (XPENDING with a range covering the entries).
    private func withDeliveryCounts(_ redis: RedisConnection, _ entries: [StreamEntry]) throws(RedisError) -> [StreamEntry] {
        guard let first = entries.first, let last = entries.last else { return entries }
        let reply = try redis.command(["XPENDING", options.stream, options.group, first.id, last.id,
                                       String(entries.count + 16), options.consumer])
        var counts: [String: Int] = [:]
        for item in reply.array ?? [] {
            if let row = item.array, row.count >= 4, let id = row[0].text, let n = row[3].integer { counts[id] = Int(n) }
        }
        return entries.map { var e = $0; e.deliveries = counts[e.id] ?? max(1, e.deliveries); return e }
    }

    /// Sends entries on: deleted ones are acknowledged, poison ones dead-lettered, the rest queued.
    private func dispatch(_ redis: RedisConnection, _ entries: [StreamEntry]) throws(RedisError) {
        let fresh = inflight.admit(entries)
        guard !fresh.isEmpty else { return }
        metrics.read(fresh.count)
        metrics.observeRead(entries: fresh.count, oldestIDMillis: fresh.first.flatMap { Int64($0.id.prefix { $0 != "-" }) })
        var work: [StreamEntry] = []
        work.reserveCapacity(fresh.count)
        for entry in fresh {
            if entry.deleted {
                acks.put(.ack([entry.id]))
            } else if entry.deliveries > options.maxDeliveries {
                acks.put(.deadLetter(DeadLetter(entry: entry, reason: .poisonMessage,
                                                detail: "delivered \(entry.deliveries) times (max_deliveries \(options.maxDeliveries))")))
            } else {
                work.append(entry)
            }
        }
        if !work.isEmpty {
            // Blocks while the pipeline is full: this is where reading stops under backpressure.
            output.put(work, weight: work.count)
        }
    }
}

func sleepMs(_ ms: Int) {
    var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
