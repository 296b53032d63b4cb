import KernelAuth
import KernelLifecycle
import KernelConfig
import KernelPlugins
import KernelPostgres
import KernelRedis
import KernelAdmin
import KernelMetrics
import KernelOnboarding
import KernelSpill
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `kernel run`: brings the kernel up in dependency order and keeps it up until SIGTERM/SIGINT.
///
/// Order: Postgres (connect, migrate) → plugins (load, family tables) → Redis (PING, consumer
/// group on the event stream) → the ingest pipeline's threads. On SIGTERM/SIGINT: stop reading,
/// flush, commit, acknowledge, exit 0.
public final class Daemon {
    public let config: KernelConfig
    public let logger: Logger
    public private(set) var registry = PluginRegistry()
    public private(set) var pipeline: IngestPipeline?
    /// The control-stream consumers (registration, token exchange, subjects, schema upgrades).
    public private(set) var onboarding: OnboardingService?
    /// Watches `plugins.dir`: hot add, upgrade, removal, quarantine (docs/plugins.md).
    public private(set) var pluginLifecycle: PluginLifecycle?
    /// Every metric of docs/admin.md, "Metrics", rendered at `/metrics`.
    public let metrics = KernelMetrics()
    /// The admin HTTP API, `/metrics`, `/healthz`, `/readyz` on `server.listen`.
    public private(set) var admin: AdminServer?
    private var metricsBridge: MetricsBridge?
    /// Held for the daemon's lifetime: keeps `kernel spill replay` (and a second kernel on the
    /// same spill directory) out while this kernel owns the spill.
    private var spillLock: SpillDirectoryLock?
    /// Which plugin call each processor is in, in a file that outlives a crash (in `spill.dir`,
    /// which this kernel holds locked).
    private var breadcrumb: CallBreadcrumb?
    private var watchdog: PluginWatchdog?
    /// Deregistrations and revocations this kernel made or heard of: recorded by the
    /// control-stream handlers and the admin API before they answer, applied by every ingest
    /// processor before its next chunk (docs/architecture.md, "Deregistrations and revocations").
    public let revocations = IngestRevocations()
    /// Hears the other kernels' deregistrations and revocations (`<key_prefix>ingest:revocations`).
    private var revocationListener: RevocationListener?
    /// Creates monthly partitions ahead and drops those past `retention`.
    private var partitionMaintenance: PartitionMaintenance?
    /// Builds the token authenticator from the config; injected so tests and tools can choose.
    let makeAuthenticator: @Sendable (KernelConfig, Logger) -> any TokenAuthenticator

    public init(config: KernelConfig, logger: Logger,
                makeAuthenticator: @escaping @Sendable (KernelConfig, Logger) -> any TokenAuthenticator = JWTAuthenticator.make) {
        self.config = config
        self.logger = logger
        self.makeAuthenticator = makeAuthenticator
    }

    /// Runs start-up; throws on the first step that cannot succeed.
    public func start() throws(StartupError) {
        logger.info("kernel starting", metadata: ["event": "infra", "component": "kernel", "pid": "\(getpid())",
                                         "toolchain": "\(HostToolchain.swift)"])
        if let ignored = config.postgres.deprecatedMaxConns {
            logger.warning("postgres.max_conns is deprecated and ignored: the kernel keeps no pool (docs/operations.md, \"Connections\"); remove the key", metadata: [
                "event": "config", "component": "kernel", "max_conns": "\(ignored)",
            ])
        }
        let pg = try Startup.connectPostgres(config, logger: logger)
        defer { pg.close() }
        if config.postgres.applyMigrations {
            let report = try Startup.migrate(pg, config: config, logger: logger)
            logger.info("migrations applied", metadata: [
                "event": "infra", "component": "postgres",
                "applied": "\(report.applied.count)", "skipped": "\(report.skipped.count)",
            ])
        }
        let plugins = try Startup.loadPlugins(directory: config.plugins.dir, configJSON: { self.config.pluginConfigJSON(for: $0) },
                                              on: pg, logger: logger)
        registry = plugins.registry
        let redis = try Startup.connectRedis(config)
        defer { redis.close() }
        try ensureConsumerGroup(redis)
        let spill = try openSpill()
        let (breadcrumb, restartCountsADelivery) = try openBreadcrumb(redis)
        let router = PluginRouter(registry)
        // Families that ever had a typed plugin: parked, never stored generically, while unserved.
        do {
            router.markTyped(try pg.query("SELECT family FROM family_tables").rows.compactMap { $0.first ?? nil })
        } catch {
            throw StartupError(step: "postgres", message: "reading family_tables: \(error.message)")
        }
        let pipeline = IngestPipeline(config: config, router: router,
                                      authenticator: makeAuthenticator(config, logger), spill: spill,
                                      breadcrumb: breadcrumb, restartCountsADelivery: restartCountsADelivery,
                                      revocations: revocations, logger: logger)
        pipeline.start()
        let listener = RevocationListener(settings: config.redisSettings, keyPrefix: config.redis.keyPrefix,
                                          revocations: revocations, logger: logger)
        listener.start()
        revocationListener = listener
        let watchdog = PluginWatchdog(breadcrumb: breadcrumb, timeoutMs: config.plugins.hangTimeoutMs, logger: logger)
        watchdog.start()
        self.watchdog = watchdog
        self.breadcrumb = breadcrumb
        self.pipeline = pipeline
        let lifecycle = PluginLifecycle(router: router, config: config, logger: logger)
        lifecycle.writesStatusFile = true
        lifecycle.start()
        pluginLifecycle = lifecycle
        try startOnboarding(router)
        let maintenance = PartitionMaintenance(config: config, metrics: metrics, logger: logger)
        maintenance.start()
        partitionMaintenance = maintenance
        try startAdmin(pipeline)
        let families = registry.servedFamilies.map { "\($0.family.name)@\($0.plugin.name)-\($0.plugin.version)" }
        logger.info("kernel ready", metadata: [
            "event": "infra", "component": "kernel",
            "plugins_loaded": "\(registry.entries.count)", "plugins_refused": "\(registry.refused.count)",
            "families": .string(families.joined(separator: ",")),
            "typed_tables": .string(plugins.typedTables.joined(separator: ",")),
            "stream": .string(config.redis.streamKey), "group": .string(config.redis.consumerGroup),
            "consumer": .string(config.redis.consumerName),
        ])
    }

    /// Stops the pipeline: stop reading, flush, commit, acknowledge (bounded by `timeoutSeconds`).
    public func stop(timeoutSeconds: Double = 30) {
        pluginLifecycle?.stop()
        pluginLifecycle = nil
        admin?.stopBlocking()
        admin = nil
        metricsBridge?.shutdown()
        metricsBridge = nil
        onboarding?.stop()
        onboarding = nil
        revocationListener?.stop()
        revocationListener = nil
        partitionMaintenance?.stop()
        partitionMaintenance = nil
        pipeline?.stop(timeoutSeconds: timeoutSeconds)
        pipeline = nil
        watchdog?.stop()
        watchdog = nil
        breadcrumb?.end()
        breadcrumb = nil
        spillLock = nil
    }

    /// The port the admin API listens on (useful with `server.listen: "…:0"`).
    public var adminPort: Int? { admin?.boundPort }

    /// Starts the admin API last, so that readiness implies the consumers run (docs/operations.md, "Start-up").
    func startAdmin(_ pipeline: IngestPipeline) throws(StartupError) {
        pipeline.metrics.attach(metrics)
        let bridge = MetricsBridge(metrics: metrics, pipeline: pipeline, onboarding: onboarding, settings: config.redisSettings,
                                   streams: config.redis.assignedShards.map(config.redis.shardStreamKey), group: config.redis.consumerGroup, logger: logger)
        bridge.start()
        metricsBridge = bridge
        let health = pipeline.health
        let server = AdminServer(settings: config.adminSettings, metrics: metrics, logger: logger, revocations: revocations,
                                 spillState: { health.state == .closed ? nil : "replaying the spill; the circuit is not closed yet" },
                                 degradedState: {
                                     let parked = pipeline.router.parking.parkedFamilies
                                     guard !parked.isEmpty else { return nil }
                                     return "families parked, no plugin serves them: "
                                         + parked.map { "\($0.family) (\($0.entries) entries)" }.joined(separator: ", ")
                                 },
                                 beforeScrape: { bridge.syncCounters() })
        do {
            try server.startBlocking()
        } catch {
            throw StartupError(step: "server", message: "server.listen \(config.server.listen): \(error)")
        }
        admin = server
        logger.info("admin api listening", metadata: [
            "event": "infra", "component": "admin", "port": "\(server.boundPort ?? 0)",
            "tls": "\(config.server.tls != nil)", "plaintext_allowed": "\(config.server.adminAllowPlaintext)",
        ])
    }

    /// Starts one consumer thread per control stream (docs/onboarding.md). Subject registration checks
    /// schemas against the families the router serves at the time of each request.
    func startOnboarding(_ router: PluginRouter) throws(StartupError) {
        var settings = config.onboardingSettings
        settings.revocations = revocations
        let families: @Sendable () -> [FamilyDescriptor] = { router.registry.servedFamilies.map(\.family) }
        let handlers = OnboardingService.standardHandlers(settings: settings) + [
            SubjectRegistrationHandler(settings: settings, families: families),
            SchemaUpgradeHandler(settings: settings, families: families),
        ]
        let service = OnboardingService(settings: settings, handlers: handlers, logger: logger)
        do {
            try service.start()
        } catch {
            throw StartupError(step: "redis", message: "control stream consumers: \(error.message)")
        }
        onboarding = service
    }

    /// Opens the crash breadcrumb (`spill.dir/plugin-calls.crumb`), charges what it says about
    /// the previous process (`CrashStrikes`), and starts a fresh record. Returns it, and whether
    /// the previous process died with no plugin call to blame (then re-reading its pending
    /// entries counts a delivery: Redis' delivery count is the fallback).
    func openBreadcrumb(_ redis: any RedisClient) throws(StartupError) -> (CallBreadcrumb, Bool) {
        let path = (config.spill.dir.hasSuffix("/") ? config.spill.dir : config.spill.dir + "/") + "plugin-calls.crumb"
        let crumb: CallBreadcrumb
        do {
            crumb = try CallBreadcrumb(path: path, slots: max(1, config.performance.processorThreads))
        } catch {
            throw StartupError(step: "spill", message: "spill.dir \(config.spill.dir): crash breadcrumb: \(error)")
        }
        var countADelivery = false
        if let crash = crumb.lastCrash() {
            if crash.calls.isEmpty {
                countADelivery = true
                logger.warning("previous kernel process died outside any plugin call; its pending entries count one more delivery", metadata: [
                    "event": "infra", "component": "plugins", "previous_pid": "\(crash.pid)",
                ])
            } else {
                let redisConfig = config.redis
                let sharded = redisConfig.shards > 1
                do {
                    let lines = try CrashStrikes.charge(crash, redis: redis) { shard in
                        sharded ? redisConfig.shardStreamKey(shard ?? 0) : redisConfig.streamKey
                    }
                    for line in lines {
                        logger.error("previous kernel process died in a plugin call", metadata: [
                            "event": "infra", "component": "plugins", "reason_code": "plugin_crash",
                            "previous_pid": "\(crash.pid)", "details": .string(line),
                        ])
                    }
                } catch {
                    throw StartupError(step: "redis", message: "charging crash strikes: \(error.message)")
                }
            }
        }
        crumb.begin()
        return (crumb, countADelivery)
    }

    /// Opens `spill.dir` (created if missing) and locks it. Segments left by an earlier run are
    /// replayed once Postgres answers.
    func openSpill() throws(StartupError) -> (appender: SpillAppender, directory: SpillDirectory) {
        do {
            let directory = try SpillDirectory(path: config.spill.dir)
            spillLock = try directory.lock()
            let appender = try SpillAppender(directory: directory, segmentBytes: config.spill.segmentBytes,
                                             maxBytes: config.spill.maxBytes, logger: logger)
            let existing = try directory.segments()
            if !existing.isEmpty {
                logger.warning("spill holds segments from an earlier run; they are replayed once postgres answers", metadata: [
                    "event": "infra", "component": "spill", "segments": "\(existing.count)",
                    "bytes": "\(existing.reduce(0) { $0 + $1.bytes })",
                ])
            }
            return (appender, directory)
        } catch {
            throw StartupError(step: "spill", message: "spill.dir \(config.spill.dir): \(error)")
        }
    }

    /// Creates the consumer group at 0-0 with MKSTREAM (docs/protocol.md, "Streams and fields") on every shard this
    /// kernel reads; "already exists" is fine.
    func ensureConsumerGroup(_ redis: any RedisClient) throws(StartupError) {
        for shard in config.redis.assignedShards {
            let stream = config.redis.shardStreamKey(shard)
            let reply: RedisReply
            do {
                reply = try redis.command(["XGROUP", "CREATE", stream, config.redis.consumerGroup, "0-0", "MKSTREAM"])
            } catch {
                throw StartupError(step: "redis", message: "XGROUP CREATE \(stream): \(error.message)")
            }
            if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
                throw StartupError(step: "redis", message: "XGROUP CREATE \(stream): \(message)")
            }
        }
    }

    /// Blocks the calling thread until SIGTERM or SIGINT. Call `installShutdownHandlers()` first.
    public func waitForShutdownSignal() -> Int32 {
        let signal = ShutdownSignal.wait()
        logger.info("kernel stopping", metadata: ["event": "infra", "component": "kernel", "signal": "\(signal)"])
        return signal
    }

    /// Routes SIGTERM and SIGINT to `waitForShutdownSignal` through a self-pipe. A process-wide
    /// handler, not a blocked-signal mask: a mask only covers threads created after it is set, and
    /// a signal delivered to any other thread would kill the process before it drains.
    public static func installShutdownHandlers() {
        ShutdownSignal.install()
    }
}
