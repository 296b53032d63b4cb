import KernelMetrics
import KernelOnboarding
import KernelRedis
import Logging

/// Carries the kernel's cheap in-process counters (atomics on the hot path) into the Prometheus
/// registry `/metrics` renders: counters advance to the running totals at each scrape, and a
/// sampler thread refreshes the gauges that need Redis or the disk (stream length, pending
/// entries, spill files) every few seconds, so a scrape never blocks on I/O.
/// A value of references: every copy drives the same sampler thread and stop flag.
struct MetricsBridge: Sendable {
    let metrics: KernelMetrics
    let pipeline: IngestPipeline
    let onboarding: OnboardingService?
    let settings: RedisSettings
    /// The event streams this kernel reads (one per assigned shard); the gauges sum them.
    let streams: [String]
    let group: String
    let logger: Logger
    // Internal, not private: a private stored property would make the memberwise initializer private.
    let stop = StopFlag()
    let done = Semaphore()

    /// Advances every counter to its current total (called before each `/metrics` render).
    func syncCounters() {
        let p = pipeline.metrics
        metrics.redisReadTotal.advance(toTotal: p.readTotal.load(ordering: .relaxed))
        metrics.redisAckTotal.advance(toTotal: p.ackTotal.load(ordering: .relaxed))
        metrics.redisDLQTotal.advance(toTotal: p.dlqTotal.load(ordering: .relaxed))
        metrics.authDeniedTotal.advance(toTotal: p.authDeniedTotal.load(ordering: .relaxed))
        metrics.pgCommitTotal.advance(toTotal: p.commitTotal.load(ordering: .relaxed))
        metrics.pgErrorsTotal.advance(toTotal: p.pgErrorsTotal.load(ordering: .relaxed))
        metrics.duplicateEventsTotal.advance(toTotal: p.duplicateEventsTotal.load(ordering: .relaxed))
        metrics.spillWriteTotal.advance(toTotal: p.spillWriteTotal.load(ordering: .relaxed))
        metrics.spillBytesTotal.advance(toTotal: p.spillBytesTotal.load(ordering: .relaxed))
        metrics.spillReplayTotal.advance(toTotal: p.spillReplayTotal.load(ordering: .relaxed))
        metrics.spillReplayEventsTotal.advance(toTotal: p.spillReplayTotal.load(ordering: .relaxed))
        metrics.spillReplayErrorsTotal.advance(toTotal: p.spillDamageTotal.load(ordering: .relaxed))
        for (reason, count) in p.deadLettersByReason { metrics.dlqReason(reason).advance(toTotal: count) }
        for (cause, count) in p.spillDamagedRecordsByCause { metrics.spillDamagedRecords(cause: cause).advance(toTotal: count) }
        metrics.ingestDroppedTotal.advance(toTotal: p.droppedTotal.load(ordering: .relaxed))
        let active = p.activity.active(now: Double(wallNanos()) / 1e9)
        metrics.producerActive.set(active.producers)
        metrics.subjectActive.set(active.subjects)
        metrics.pgCircuitState.set(pipeline.health.gaugeValue)
        if let spill = pipeline.spill {
            let stats = spill.stats()
            metrics.spillFiles.set(stats.files)
            metrics.spillBytes.set(stats.currentBytes)
        }
        let plugins = pipeline.router.metrics
        metrics.pluginsActive.set(plugins.activePlugins.load(ordering: .relaxed))
        metrics.pluginsRetired.set(plugins.retiredPlugins.load(ordering: .relaxed))
        metrics.pluginsQuarantined.set(plugins.quarantinedPlugins.load(ordering: .relaxed))
        metrics.pluginHostDeathsTotal.advance(toTotal: plugins.hostDeathsTotal.load(ordering: .relaxed))
        metrics.pluginQuarantinesTotal.advance(toTotal: plugins.quarantinesTotal.load(ordering: .relaxed))
        for (family, count) in pipeline.router.parking.totals { metrics.parkedEvents(family: family).advance(toTotal: count) }
        for f in plugins.familySnapshots {
            metrics.normalize(family: f.family, outcome: "ok").advance(toTotal: f.events - f.errors)
            metrics.normalize(family: f.family, outcome: "error").advance(toTotal: f.errors)
            metrics.pluginSlowCalls(family: f.family).advance(toTotal: f.slowCalls)
        }
        if let o = onboarding?.metrics {
            metrics.registrationRateLimitedTotal.advance(toTotal: o.rateLimited.load(ordering: .relaxed))
            metrics.registrationRateLimitErrorsTotal.advance(toTotal: o.rateLimitErrors.load(ordering: .relaxed))
            metrics.canonicalVerifyFailTotal.advance(toTotal: o.canonicalVerifyFailures.load(ordering: .relaxed))
            for seconds in o.drainPersistTimes() { metrics.registrationPersistSeconds.observe(seconds) }
            for (status, count) in o.outcomesByStatus {
                metrics.registrationOutcome(stage: "registration", action: "register", outcome: status).advance(toTotal: count)
            }
            for d in o.rateDecisionsByOp {
                (d.allowed ? metrics.rateLimitAllow(op: d.op) : metrics.rateLimitDeny(op: d.op)).advance(toTotal: d.count)
            }
        }
    }

    /// Starts the gauge sampler (Redis stream length and group pending count every 5 s).
    func start() {
        DedicatedThread.start(name: "dk-metrics") { [self] in
            var redis: (any RedisClient)?
            while !stop.isSet {
                do {
                    let c: any RedisClient
                    if let redis { c = redis } else { c = try settings.connectClient(); redis = c }
                    let commands = streams.flatMap { [["XLEN", $0], ["XPENDING", $0, group]] }
                    let replies = try c.pipeline(commands.map { $0.map { Array($0.utf8) } })
                    var length = 0, pending = 0
                    for i in stride(from: 0, to: replies.count - 1, by: 2) {
                        length += Int(replies[i].integer ?? 0)
                        pending += Int(replies[i + 1].array?.first?.integer ?? 0)
                    }
                    metrics.redisStreamLength.set(length)
                    metrics.redisPending.set(pending)
                } catch {
                    redis?.close()
                    redis = nil
                }
                syncCounters()
                var slept = 0
                while slept < 5000 && !stop.isSet { sleepMs(100); slept += 100 }
            }
            redis?.close()
            done.signal()
        }
    }

    func shutdown() {
        stop.set()
        _ = done.wait(timeoutSeconds: 2)
    }
}
