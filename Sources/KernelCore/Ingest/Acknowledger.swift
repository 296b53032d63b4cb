import KernelRedis
import Logging

/// Acknowledges entries on its own thread and connection, in pipelined bulk. Dead letters are
/// XADDed to the DLQ first and acknowledged only once the DLQ write succeeded (docs/protocol.md, "Ingest checks, in order"):
/// if Redis is down, nothing is acknowledged and the acknowledger retries until it is back.
final class Acknowledger: @unchecked Sendable {
    // @unchecked: state confined to the acknowledger thread.
    /// The stream key of a shard (nil: the unsharded stream).
    let streamKey: @Sendable (Int?) -> String
    let group: String
    let dlqStream: String
    let settings: RedisSettings
    let wiring: PipelineWiring
    let logger: Logger
    private var connection: (any RedisClient)?
    /// `redis.maxlen_approx`: after acks, `XTRIM <stream> MAXLEN ~ N` (at most once a second per stream).
    var maxlenApprox: Int?
    private var lastTrim: [Int?: Double] = [:]

    static let maxPerRound = 2000

    init(streamKey: @escaping @Sendable (Int?) -> String, group: String, dlqStream: String, settings: RedisSettings,
         wiring: PipelineWiring, logger: Logger) {
        self.wiring = wiring
        self.streamKey = streamKey
        self.group = group
        self.dlqStream = dlqStream
        self.settings = settings
        self.logger = logger
    }

    /// Runs until the input queue is closed and empty.
    func run() {
        while let first = wiring.acks.take() {
            var round = [first]
            while round.count < Self.maxPerRound, let more = wiring.acks.tryTake() { round.append(more) }
            let sent = retryWithBackoff(Backoff(baseMs: 200, maxMs: 5000), until: wiring.abandon, failed: { failure in
                connection?.close()
                connection = nil
                logger.error("acknowledge failed; retrying", metadata: [
                    "event": "infra", "component": "acker", "reason_code": .string(failure.error.kind.rawValue),
                    "details": .string(failure.error.message), "retry_ms": "\(failure.retryMs)",
                ])
            }) { _ throws(RedisError) in try send(round) }
            // Abandoned while Redis is down: what is left stays pending in Redis.
            if !sent { break }
        }
        connection?.close()
    }

    private func send(_ round: [AckWork]) throws(RedisError) {
        let redis: any RedisClient
        if let connection { redis = connection } else {
            redis = try settings.connectClient()
            connection = redis
        }
        var commands: [[[UInt8]]] = []
        var ids: [String] = []
        var letters: [DeadLetter] = []
        var readTimes: [Int64] = []
        for work in round {
            switch work {
            case .ack(let refs): ids.append(contentsOf: refs)
            case .ackBatch(let refs, let readAt):
                ids.append(contentsOf: refs)
                readTimes.append(readAt)
            case .deadLetter(let letter):
                letters.append(letter)
                ids.append(letter.entry.ref)
                commands.append(DeadLetterWriter.xadd(letter, stream: dlqStream))
            }
        }
        // One XACK per stream, after every DLQ XADD (a cluster client runs them in this order).
        // Entries come in runs from one shard: look the shard's command up once per run.
        var xacks: [[[UInt8]]] = []
        var shardOrder: [Int?] = []
        var slot: [Int?: Int] = [:]
        var last: (shard: Int?, index: Int)?
        // Each reference is parsed once, here: its key releases it from the in-flight set and
        // prints its id into the XACK (parsing it again on release cost ~1 % of the kernel).
        var keys: [EntryKey] = []
        keys.reserveCapacity(ids.count)
        var otherRefs: [String] = []
        for ref in ids {
            let shard: Int?
            var id: [UInt8] = []
            if let key = EntryKey(ref: ref) {
                keys.append(key)
                shard = key.shard < 0 ? nil : key.shard
                key.appendID(to: &id)
            } else {
                otherRefs.append(ref)
                let split = EntryRef.split(ref)
                shard = split.shard
                id = Array(split.id.utf8)
            }
            let index: Int
            if let last, last.shard == shard {
                index = last.index
            } else if let known = slot[shard] {
                index = known
            } else {
                index = xacks.count
                slot[shard] = index
                shardOrder.append(shard)
                xacks.append([Array("XACK".utf8), Array(streamKey(shard).utf8), Array(group.utf8)])
            }
            last = (shard, index)
            xacks[index].append(id)
        }
        commands.append(contentsOf: xacks)
        let replies = try redis.pipeline(commands)
        for (i, reply) in replies.enumerated() {
            if case .error(let message) = reply {
                // An XADD refused (e.g. OOM): do not acknowledge anything of this round.
                throw RedisError(kind: .reply, message: "\(String(decoding: commands[i][0], as: UTF8.self)): \(message)")
            }
        }
        for letter in letters {
            wiring.metrics.deadLettered(letter.reason)
            logger.warning("event dead-lettered", metadata: [
                "event": "authorization", "component": "ingest", "reason_code": .string(letter.reason.rawValue),
                "details": .string(String(letter.detail.prefix(300))), "entry_id": .string(letter.entry.id),
            ])
        }
        wiring.metrics.acked(ids.count)
        for readAt in readTimes { wiring.metrics.observeAcknowledged(readAtMicros: readAt) }
        wiring.inflight.release(keys: keys, others: otherRefs)
        trim(redis, shards: shardOrder)
    }

    /// Keeps each acknowledged stream near `maxlenApprox` entries. Trimming is by length, not by
    /// acknowledgement (Redis has no "trim acked" before 8.2): an entry still unread when the
    /// stream outgrows the limit is lost, which is why the key is off by default.
    private func trim(_ redis: any RedisClient, shards: [Int?]) {
        guard let maxlen = maxlenApprox else { return }
        let now = monotonicSeconds()
        for shard in shards where now - (lastTrim[shard] ?? 0) >= 1 {
            lastTrim[shard] = now
            let stream = streamKey(shard)
            do {
                if case .error(let message) = try redis.command(["XTRIM", stream, "MAXLEN", "~", String(maxlen)]) {
                    logger.warning("stream trim refused", metadata: [
                        "event": "infra", "component": "acker", "stream": .string(stream), "details": .string(message),
                    ])
                }
            } catch {
                // The next round reconnects; a skipped trim only delays the next one.
                logger.warning("stream trim failed", metadata: [
                    "event": "infra", "component": "acker", "stream": .string(stream), "details": .string(error.message),
                ])
                return
            }
        }
    }
}
