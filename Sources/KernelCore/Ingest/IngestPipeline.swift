import KernelAuth
import KernelConfig
import KernelEvents
import KernelPlugins
import KernelRedis
import KernelSpill
import KernelStore
import Logging

/// The data plane, wired: reader → processor → writers → acknowledger, each on its own thread,
/// joined by bounded queues.
///
/// ```
/// StreamReader ──[entries: postgres.queue_size events]──▶ IngestProcessor ×P ──[batches]──▶ BatchWriterStage ×N
///      │                                                     │ DLQ                        │ committed ids
///      └──── poison / deleted ──────────────────────────────▶ Acknowledger ◀──────────────┘  (XADD DLQ, XACK)
///                                                                 spill (Postgres down) ◀──┘
///                                                       SpillReplayLoop ──▶ Postgres (when it is back)
/// ```
/// Shutdown (`stop`) runs the same way, front to back: the reader stops reading, the processor
/// drains its queue and flushes the last batch, the writers commit, the acknowledger acks, and
/// `stop` returns when every thread has finished.
public final class IngestPipeline: Sendable {
    public let router: PluginRouter
    /// The queues, in-flight set, stop flags and counters every stage shares.
    let wiring: PipelineWiring
    public var metrics: PipelineMetrics { wiring.metrics }
    /// One reader per assigned shard (one when the stream is not sharded).
    let readers: [StreamReader]
    let processors: [IngestProcessor]
    let writers: [BatchWriterStage]
    let acknowledger: Acknowledger
    /// The circuit breaker the writers and the replayer share.
    public let health: PostgresHealth
    /// The spill the writers fall back to while Postgres is unreachable.
    public let spill: SpillAppender?
    let replayLoop: SpillReplayLoop?
    private let replayStop = StopFlag()
    private let replayDone = Semaphore()
    private let readerDone = Semaphore()
    private let processorDone = Semaphore()
    private let writersDone = Semaphore()
    private let ackerDone = Semaphore()
    let logger: Logger

    /// - Parameters:
    ///   - spill: the spill (its directory locked by the caller); nil disables spilling (batches
    ///     are then held and retried until Postgres is back).
    ///   - breadcrumb: where processors record each plugin call (one slot each), so a crash is
    ///     charged to its culprit (`CrashStrikes`); nil runs without.
    ///   - restartCountsADelivery: the previous process died with no breadcrumb naming a culprit:
    ///     the first re-read of pending entries counts a delivery (`StreamReader.Options`).
    ///   - revocations: deregistrations and revocations recorded in this process (the daemon's,
    ///     shared with the control-stream handlers and the admin API); every processor applies
    ///     them before its next chunk.
    public init(config: KernelConfig, router: PluginRouter, authenticator: any TokenAuthenticator,
                spill: (appender: SpillAppender, directory: SpillDirectory)? = nil,
                breadcrumb: CallBreadcrumb? = nil, restartCountsADelivery: Bool = false,
                revocations: IngestRevocations = IngestRevocations(), logger: Logger) {
        self.router = router
        self.spill = spill?.appender
        health = PostgresHealth(threshold: config.postgres.circuitBreakerThreshold,
                                timeoutSeconds: Double(config.postgres.circuitBreakerTimeoutSeconds), logger: logger)
        self.logger = logger
        let settings = config.redisSettings
        let writerCount = max(1, config.postgres.writeConnections)
        // Batches: room for every writer's batch in flight plus one ready, so writers never wait
        // on the processor under load, and memory stays bounded by a few batches.
        let wiring = PipelineWiring(entries: BlockingQueue(capacity: config.postgres.queueSize),
                                    batches: BlockingQueue(capacity: config.postgres.batchSize * (writerCount + 1)),
                                    acks: BlockingQueue(capacity: 1 << 20), inflight: InflightSet(),
                                    stop: StopFlag(), abandon: StopFlag(), metrics: PipelineMetrics())
        self.wiring = wiring
        let redisConfig = config.redis
        let sharded = redisConfig.shards > 1
        readers = redisConfig.assignedShards.map { shard in
            StreamReader(
                options: .init(stream: redisConfig.shardStreamKey(shard), shard: sharded ? shard : nil,
                               group: redisConfig.consumerGroup, consumer: redisConfig.consumerName,
                               count: redisConfig.readCount, blockMs: redisConfig.blockMs,
                               maxDeliveries: redisConfig.maxDeliveries, claimIdleMs: redisConfig.claimIdleMs,
                               deadConsumerMs: redisConfig.deadConsumerMs, crashStrikes: config.plugins.crashStrikes,
                               countRestartAsDelivery: restartCountsADelivery, shortReadPauseMs: redisConfig.readPauseMs),
                settings: settings, wiring: wiring, logger: logger)
        }
        for reader in readers { reader.router = router }
        processors = (0..<max(1, config.performance.processorThreads)).map { index in
            let directory = IngestDirectory(dsn: config.postgres.connectionDSN(), keyPrefix: config.redis.keyPrefix, redis: settings, logger: logger)
            directory.redisSchemaTTLSeconds = config.performance.schemaCacheTTLSeconds
            directory.bindingTTL = Double(config.performance.bindingCacheSeconds)
            directory.giveUp = { wiring.abandon.isSet }
            directory.refreshSeconds = Double(config.auth.revocationCheckSeconds)
            directory.revocations = revocations
            let processor = IngestProcessor(
                options: .init(maxMessageBytes: config.server.maxMessageBytes, batchSize: config.postgres.batchSize,
                               batchMaxWaitMs: config.postgres.batchMaxWaitMs, batchLingerMs: config.postgres.batchLingerMs,
                               envelopeLimits: EnvelopeLimits(maxTags: config.server.maxEventTags,
                                                              maxTagKeyBytes: config.server.maxTagKeyBytes,
                                                              maxTagValueBytes: config.server.maxTagValueBytes)),
                wiring: wiring, directory: directory, authenticator: authenticator, router: router, logger: logger)
            if config.plugins.isolation == .process || config.plugins.isolationOverrides.values.contains(.process) {
                processor.hosts = PluginHosts(settings: .init(plugins: config.plugins), logger: logger, metrics: router.metrics)
            }
            if let breadcrumb, index < breadcrumb.slotCount { processor.breadcrumb = (breadcrumb, index) }
            return processor
        }
        let dsn = config.postgres.connectionDSN()
        let maxWriteEvents = config.postgres.maxWriteEvents, tagBudget = config.server.maxTagsPerProducer
        let sharedHealth = health, appender = spill?.appender
        writers = (0..<writerCount).map {
            let w = BatchWriterStage(index: $0, dsn: dsn, wiring: wiring, health: sharedHealth, spill: appender, logger: logger)
            w.maxWriteEvents = maxWriteEvents
            w.tagBudgetPerProducer = tagBudget
            return w
        }
        acknowledger = Acknowledger(streamKey: { shard in shard.map(redisConfig.shardStreamKey) ?? redisConfig.streamKey },
                                    group: config.redis.consumerGroup,
                                    dlqStream: config.redis.dlqStreamKey, settings: settings, wiring: wiring, logger: logger)
        acknowledger.maxlenApprox = redisConfig.maxlenApprox
        if let spill {
            let replayers = (0..<writerCount).map { _ in
                let replayer = SpillReplayer(directory: spill.directory, dsn: dsn, batchSize: config.spill.replayBatchSize,
                                             deadLetters: DeadLetterWriter(dlqStream: config.redis.dlqStreamKey, settings: settings),
                                             metrics: wiring.metrics, logger: logger)
                replayer.tagBudgetPerProducer = config.server.maxTagsPerProducer
                return replayer
            }
            replayLoop = SpillReplayLoop(appender: spill.appender, replayers: replayers, health: health, stop: replayStop,
                                         intervalSeconds: Double(config.spill.replayIntervalMs) / 1000, logger: logger)
            replayLoop?.probeDSN = dsn
        } else {
            replayLoop = nil
        }
    }

    /// Starts every thread.
    public func start() {
        DedicatedThread.start(name: "dk-ack") { [self] in acknowledger.run(); ackerDone.signal() }
        for w in writers {
            DedicatedThread.start(name: "dk-writer-\(w.index)") { [self] in w.run(); writersDone.signal() }
        }
        for (i, p) in processors.enumerated() {
            DedicatedThread.start(name: "dk-process-\(i)") { [self] in p.run(); processorDone.signal() }
        }
        for (i, reader) in readers.enumerated() {
            DedicatedThread.start(name: "dk-reader-\(i)") { [self] in reader.run(); readerDone.signal() }
        }
        if let replayLoop {
            DedicatedThread.start(name: "dk-spill-replay") { [self] in replayLoop.run(); replayDone.signal() }
        }
    }

    /// Stops reading, drains, commits and acknowledges everything in flight, then returns; within
    /// `timeoutSeconds` (then what is still unacknowledged is left pending for redelivery).
    public func stop(timeoutSeconds: Double = 30) {
        let deadline = monotonicSeconds() + timeoutSeconds
        func remaining() -> Double { max(0.1, deadline - monotonicSeconds()) }
        wiring.stop.set()
        var clean = true
        for _ in readers { clean = readerDone.wait(timeoutSeconds: remaining()) && clean }
        wiring.entries.close()
        for _ in processors { clean = processorDone.wait(timeoutSeconds: remaining()) && clean }
        wiring.batches.close()   // after every processor flushed its last batch
        for _ in writers { clean = writersDone.wait(timeoutSeconds: remaining()) && clean }
        wiring.acks.close()
        clean = ackerDone.wait(timeoutSeconds: remaining()) && clean
        // The replayer stops between batches; a segment it was replaying stays and is replayed
        // again (idempotently) after the restart.
        replayStop.set()
        if replayLoop != nil { clean = replayDone.wait(timeoutSeconds: remaining()) && clean }
        // An open segment reads as the append of a process that died, whose cut end would pass for
        // a torn tail; sealing it keeps the seal's check (docs/spill.md, "The seal").
        if let spill {
            do { try spill.sealActive() } catch {
                logger.error("spill segment could not be sealed at shutdown; it stays open", metadata: [
                    "event": "infra", "component": "spill", "reason_code": .string(error.reasonCode), "details": .string("\(error)"),
                ])
            }
        }
        if !clean {
            wiring.abandon.set()
            logger.error("ingest shutdown timed out; unacknowledged entries stay pending for redelivery", metadata: [
                "event": "infra", "component": "ingest", "inflight": "\(wiring.inflight.count)",
            ])
        }
        logger.info("ingest drained", metadata: [
            "event": "infra", "component": "ingest", "inflight": "\(wiring.inflight.count)",
            "read": "\(metrics.readTotal.load(ordering: .relaxed))", "acked": "\(metrics.ackTotal.load(ordering: .relaxed))",
        ])
    }

    /// Entries read but not yet acknowledged.
    public var inflightCount: Int { wiring.inflight.count }
}
