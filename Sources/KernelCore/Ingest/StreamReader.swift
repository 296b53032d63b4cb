import KernelRedis
import Logging

/// Reads one event stream (one shard) with the consumer group on its own thread and connection, and hands
/// entries to the pipeline through a bounded queue: when the queue is full, `put` blocks and the
/// reader stops reading (backpressure; Redis keeps the backlog, the kernel's memory stays flat).
///
/// At start and after every reconnect it first re-reads its own pending entries (delivered to this
/// consumer but never acknowledged), skipping those still in flight, then reads new ones (`>`).
/// Every `claimIdleMs` it also claims entries other consumers left pending that long (XAUTOCLAIM),
/// so the work of a kernel that died is finished. Entries delivered more than `maxDeliveries`
/// times go straight to the DLQ as `poison_message`, without being processed again. At the same
/// interval it removes consumers that stayed idle longer than `deadConsumerMs` with nothing pending
/// (a kernel that is gone for good), atomically in a script so a consumer that just read is never
/// removed with entries in its pending list.
public final class StreamReader: @unchecked Sendable {
    // @unchecked: all mutable state is confined to the reader thread.
    public struct Options: Sendable {
        public var stream: String
        /// The shard this stream is; nil when the event stream is not sharded.
        public var shard: Int?
        public var group: String
        public var consumer: String
        public var count: Int
        public var blockMs: Int
        public var maxDeliveries: Int
        public var claimIdleMs: Int
        /// 0 = never remove other consumers.
        public var deadConsumerMs: Int
        /// `plugins.crash_strikes`: an entry with this many strikes (`CrashStrikes`) is poison.
        public var crashStrikes = 2
        /// True when the previous process died outside any plugin call (no breadcrumb names a
        /// culprit: `kill -9`, an OOM kill, a fault in the kernel itself): the first re-read of
        /// this consumer's pending entries then counts a delivery each, so Redis' delivery count
        /// still ends a crash loop. Otherwise re-reading them costs nothing.
        public var countRestartAsDelivery = false
        /// `redis.read_pause_ms`: the wait after a read that returned under half of `count`.
        public var shortReadPauseMs = 0
    }

    let options: Options
    let settings: RedisSettings
    let wiring: PipelineWiring
    let logger: Logger

    private var connection: (any RedisClient)?
    private var lastClaim: Double = 0
    private var lastReap: Double = 0
    private var firstDrain = true
    /// Set by the pipeline: where parked entries are recorded, and the routing they wait for.
    var router: PluginRouter?
    private var lastTouch: Double = 0
    /// Producers send the same token on every entry: consecutive equal tokens share one buffer.
    private var tokens = TokenInterner()

    init(options: Options, settings: RedisSettings, wiring: PipelineWiring, logger: Logger) {
        self.options = options
        self.settings = settings
        self.wiring = wiring
        self.logger = logger
    }

    /// The reader thread's body; returns when `stop` is set.
    func run() {
        retryWithBackoff(Backoff(baseMs: 500, maxMs: 5000), until: wiring.stop, failed: { failure in
            connection?.close()
            connection = nil
            logger.error("event stream read failed; reconnecting", metadata: [
                "event": "infra", "component": "reader", "stream": .string(options.stream),
                "reason_code": .string(failure.error.kind.rawValue), "details": .string(failure.error.message),
                "retry_ms": "\(failure.retryMs)",
            ])
        }) { connected throws(RedisError) in
            guard !wiring.stop.isSet else { return }
            let redis = try connectAndPrepare()
            connected()
            try drainOwnPending(redis, countingADelivery: firstDrain && options.countRestartAsDelivery)
            firstDrain = false
            while !wiring.stop.isSet {
                try unparkIfRoutingChanged(redis)
                try touchParked(redis)
                try claimAbandoned(redis)
                try removeDeadConsumers(redis)
                try readNew(redis)
            }
        }
        connection?.close()
        connection = nil
    }

    private func connectAndPrepare() throws(RedisError) -> any RedisClient {
        let redis = try settings.connectClient()
        // A BLOCK read needs a socket timeout longer than the block (docs/platform-notes.md, "hiredis 0.14 and 1.x").
        redis.setTimeout(ms: max(settings.commandTimeoutMs, blockMs + 2000))
        let reply = try redis.command(["XGROUP", "CREATE", options.stream, options.group, "0-0", "MKSTREAM"])
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
            throw RedisError(kind: .reply, message: "XGROUP CREATE: \(message)")
        }
        // Join the group visibly at once (XINFO CONSUMERS shows every running kernel), not only
        // once the first entry is delivered.
        if case .error(let message) = try redis.command(["XGROUP", "CREATECONSUMER", options.stream, options.group,
                                                         options.consumer]) {
            throw RedisError(kind: message.hasPrefix("NOGROUP") ? .io : .reply, message: "XGROUP CREATECONSUMER: \(message)")
        }
        connection = redis
        return redis
    }

    /// Shutdown waits at most this long for a blocked read to return.
    private var blockMs: Int { min(options.blockMs, 1000) }

    /// Takes back this consumer's pending entries, in pages. XPENDING lists them without counting
    /// a delivery; entries still in flight in this process are skipped; the others are read back
    /// with XRANGE (in one script per page), which does not count a delivery either: an entry
    /// that was merely pending when the kernel stopped or crashed is not a suspect. A crash loop
    /// is ended by the strikes the breadcrumb charges to the culprit alone (`CrashStrikes`);
    /// only when the previous process died without a breadcrumb naming one
    /// (`countingADelivery`) are they fetched with XCLAIM, which counts one more delivery each,
    /// so `redis.max_deliveries` still ends that loop.
    private func drainOwnPending(_ redis: any RedisClient, countingADelivery: Bool) throws(RedisError) {
        var start = "-"
        while !wiring.stop.isSet {
            let reply = try redis.command(["XPENDING", options.stream, options.group, start, "+", String(options.count),
                                           options.consumer])
            if case .error(let message) = reply {
                throw RedisError(kind: message.hasPrefix("NOGROUP") ? .io : .reply, message: "XPENDING: \(message)")
            }
            guard let rows = reply.array, !rows.isEmpty else { return }
            var counts: [String: Int] = [:]
            var wanted: [String] = []
            var lastID = ""
            for row in rows {
                guard let fields = row.array, fields.count >= 4, let id = fields[0].text else { continue }
                lastID = id
                counts[id] = Int(fields[3].integer ?? 1)
                if !wiring.inflight.contains(EntryRef.make(shard: options.shard, id: id)) { wanted.append(id) }
            }
            if !wanted.isEmpty {
                let fetched = countingADelivery
                    ? try redis.command(["XCLAIM", options.stream, options.group, options.consumer, "0"] + wanted)
                    : try redis.command(["EVAL", Self.readPendingScript, "1", options.stream] + wanted)
                if case .error(let message) = fetched { throw RedisError(kind: .reply, message: "re-read pending: \(message)") }
                // Entries deleted from the stream: XCLAIM (Redis 7) drops them from the pending
                // list and leaves them out; the script returns them without fields, and they
                // are acknowledged as deleted.
                let extra = countingADelivery ? 1 : 0
                let entries = StreamEntry.parseList(RedisReplyView(fetched), shard: options.shard, deliveries: 0,
                                                    mayBeRedelivery: true, tokens: &tokens)
                    .map { entry -> StreamEntry in
                        var e = entry
                        e.deliveries = (counts[entry.id] ?? 0) + extra
                        return e
                    }
                if !entries.isEmpty { try dispatch(redis, entries) }
            }
            guard rows.count >= options.count, !lastID.isEmpty else { return }
            start = "(" + lastID
        }
    }

    /// KEYS[1] stream; ARGV entry ids. Returns `[[id, fields | nil], …]` like XCLAIM, without
    /// touching the pending list (no delivery counted).
    static let readPendingScript = """
        local out = {}
        for i, id in ipairs(ARGV) do
          local found = redis.call('XRANGE', KEYS[1], id, id)
          if found[1] then out[i] = found[1] else out[i] = {id, false} end
        end
        return out
        """

    /// Re-reads this shard's parked entries once routing has changed since they were parked: a
    /// family served again gets its events; those still unserved are parked again.
    private func unparkIfRoutingChanged(_ redis: any RedisClient) throws(RedisError) {
        guard let router, router.parking.takeIfRoutingChanged(shard: options.shard, generation: router.snapshot.generation) else {
            return
        }
        try drainOwnPending(redis, countingADelivery: false)
    }

    /// Keeps parked entries from looking abandoned: XCLAIM … JUSTID to this consumer resets their
    /// idle time and counts no delivery, so no peer claims (and re-counts) them.
    private func touchParked(_ redis: any RedisClient) throws(RedisError) {
        guard let router else { return }
        let now = monotonicSeconds()
        guard now - lastTouch >= max(1, Double(options.claimIdleMs) / 3000) else { return }
        lastTouch = now
        let ids = router.parking.ids(shard: options.shard)
        var start = 0
        while start < ids.count {
            let page = Array(ids[start..<min(ids.count, start + 500)])
            start += page.count
            let reply = try redis.command(["XCLAIM", options.stream, options.group, options.consumer, "0"] + page + ["JUSTID"])
            if case .error(let message) = reply { throw RedisError(kind: .reply, message: "XCLAIM JUSTID: \(message)") }
        }
    }

    /// Claims entries idle longer than `claimIdleMs` in other consumers' pending lists.
    private func claimAbandoned(_ redis: any RedisClient) throws(RedisError) {
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
            let entries = StreamEntry.parseList(RedisReplyView(parts[1]), shard: options.shard, deliveries: 0,
                                                mayBeRedelivery: true, tokens: &tokens)
            if !entries.isEmpty {
                logger.info("claimed abandoned entries", metadata: [
                    "event": "infra", "component": "reader", "stream": .string(options.stream), "count": "\(entries.count)",
                ])
                try dispatch(redis, withDeliveryCounts(redis, entries))
            }
            // Redis 7 also returns ids it removed from the PEL because the entries were deleted.
        } while cursor != "0-0" && !wiring.stop.isSet
    }

    /// Removes other consumers idle longer than `deadConsumerMs` whose pending list is empty. The
    /// check and the removal run in one script: XGROUP DELCONSUMER drops a consumer's pending
    /// entries with it, so a kernel that came back and read between a separate check and the
    /// removal would lose them.
    private func removeDeadConsumers(_ redis: any RedisClient) throws(RedisError) {
        guard options.deadConsumerMs > 0 else { return }
        let now = monotonicSeconds()
        // At most every claim interval (and at least every dead_consumer_ms), never in a tight loop.
        let interval = max(1.0, Double(min(max(options.claimIdleMs, 1000), options.deadConsumerMs)) / 1000)
        guard now - lastReap >= interval else { return }
        lastReap = now
        let reply = try redis.command(["EVAL", Self.removeDeadConsumersScript, "1", options.stream, options.group,
                                       options.consumer, String(options.deadConsumerMs)])
        if case .error(let message) = reply {
            // NOGROUP right after a FLUSHALL: the next read recreates the group.
            logger.warning("dead consumer sweep failed", metadata: [
                "event": "infra", "component": "reader", "stream": .string(options.stream), "details": .string(message),
            ])
            return
        }
        for name in reply.array ?? [] {
            logger.info("removed dead consumer", metadata: [
                "event": "infra", "component": "reader", "stream": .string(options.stream),
                "consumer": .string(name.text ?? "?"), "idle_ms_over": "\(options.deadConsumerMs)",
            ])
        }
    }

    /// KEYS[1] stream; ARGV group, own consumer name, idle threshold (ms). Returns removed names.
    static let removeDeadConsumersScript = """
        local removed = {}
        local threshold = tonumber(ARGV[3])
        for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
          local name, pending, idle
          for i = 1, #c, 2 do
            if c[i] == 'name' then name = c[i + 1]
            elseif c[i] == 'pending' then pending = c[i + 1]
            elseif c[i] == 'idle' then idle = c[i + 1] end
          end
          if name and name ~= ARGV[2] and pending == 0 and idle and idle >= threshold then
            redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
            removed[#removed + 1] = name
          end
        end
        return removed
        """

    private func readNew(_ redis: any RedisClient) throws(RedisError) {
        let entries = try read(redis, ["XREADGROUP", "GROUP", options.group, options.consumer, "COUNT", String(options.count),
                                       "BLOCK", String(blockMs), "STREAMS", options.stream, ">"],
                               deliveries: 1, mayBeRedelivery: false)
        if !entries.isEmpty { try dispatch(redis, entries) }
        // A short read (under half of COUNT): the stream is being read faster than it fills.
        // Waiting `redis.read_pause_ms` lets the next read bring several producer sends at once
        // instead of waking every stage for each (docs/operations.md, "Throughput, latency and
        // memory: the batching keys"). Under load reads come back full and never wait.
        if options.shortReadPauseMs > 0, !entries.isEmpty, entries.count < options.count / 2, !wiring.stop.isSet {
            sleepMs(options.shortReadPauseMs)
        }
    }

    /// Runs an XREADGROUP and decodes its entries straight from the reply (no intermediate copy).
    private func read(_ redis: any RedisClient, _ args: [String], deliveries: Int,
                      mayBeRedelivery: Bool) throws(RedisError) -> [StreamEntry] {
        let shard = options.shard
        let result = try redis.command(args.map { Array($0.utf8) }) { reply -> Result<[StreamEntry], RedisError> in
            switch reply.kind {
            case .null: return .success([])
            case .error:
                let message = reply.text ?? reply.withBytes { String(decoding: $0, as: UTF8.self) }
                // A blocked read woken by a topology change (a failover turned the node into a
                // replica, the stream's slot moved away): read again at once; the cluster client
                // follows the redirection. Not a failure, so no reconnect and no backoff.
                if message.hasPrefix("UNBLOCKED") { return .success([]) }
                // NOGROUP after a FLUSHALL or a deleted stream: recreate on reconnect.
                return .failure(RedisError(kind: message.hasPrefix("NOGROUP") ? .io : .reply, message: message))
            case .array:
                let stream = reply[0]
                guard stream.count >= 2 else { return .success([]) }
                return .success(StreamEntry.parseList(stream[1], shard: shard, deliveries: deliveries,
                                                      mayBeRedelivery: mayBeRedelivery, tokens: &tokens))
            default: return .success([])
            }
        }
        return try result.get()
    }

    /// Fills `deliveries` from the pending list (XPENDING with a range covering the entries).
    private func withDeliveryCounts(_ redis: any RedisClient, _ entries: [StreamEntry]) throws(RedisError) -> [StreamEntry] {
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
    private func dispatch(_ redis: any RedisClient, _ entries: [StreamEntry]) throws(RedisError) {
        let fresh = wiring.inflight.admit(entries)
        guard !fresh.isEmpty else { return }
        // Re-read or claimed entries may have crashed a plugin before (new entries never have).
        let strikes = fresh[0].mayBeRedelivery
            ? try CrashStrikes.lookup(fresh.map(\.id), stream: options.stream, redis: redis) : [:]
        wiring.metrics.read(fresh.count)
        wiring.metrics.observeRead(entries: fresh.count, oldestIDMillis: fresh.first.flatMap { Int64($0.id.prefix { $0 != "-" }) })
        let maxDeliveries = options.maxDeliveries
        let allWork = fresh.withUnsafeBufferPointer { entries in
            // By index: iterating copies each entry.
            !entries.indices.contains { entries[$0].deleted || entries[$0].deliveries > maxDeliveries } && strikes.isEmpty
        }
        if allWork {
            // The usual case: the chunk goes on as it is (building `work` copied every entry).
            wiring.entries.put(fresh, weight: fresh.count)
            return
        }
        var work: [StreamEntry] = []
        work.reserveCapacity(fresh.count)
        var poisoned: [String] = []
        defer {
            // Settled: the strikes are not needed any more (best effort; they expire anyway).
            if !poisoned.isEmpty { try? CrashStrikes.forget(poisoned, stream: options.stream, redis: redis) }
        }
        for entry in fresh {
            if entry.deleted {
                // Trimmed or deleted before it was read: nothing of it exists to store.
                wiring.metrics.droppedTotal.add(1, ordering: .relaxed)
                wiring.acks.put(.ack([entry.ref]))
            } else if let record = strikes[entry.id], record.strikes >= options.crashStrikes {
                poisoned.append(entry.id)
                wiring.acks.put(.deadLetter(DeadLetter(entry: entry, reason: .poisonMessage,
                                                detail: "crashed the kernel \(record.strikes) times (plugins.crash_strikes \(options.crashStrikes)); last: \(record.detail)")))
            } else if entry.deliveries > options.maxDeliveries {
                wiring.acks.put(.deadLetter(DeadLetter(entry: entry, reason: .poisonMessage,
                                                detail: "delivered \(entry.deliveries) times (max_deliveries \(options.maxDeliveries))")))
            } else {
                var e = entry
                e.isolate = strikes[entry.id] != nil
                work.append(e)
            }
        }
        if !work.isEmpty {
            // Blocks while the pipeline is full: this is where reading stops under backpressure.
            wiring.entries.put(work, weight: work.count)
        }
    }
}
