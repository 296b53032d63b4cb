import KernelRedis
import Logging

/// The control plane over Redis: one `ControlStreamConsumer` (thread + connection) per handler.
public final class OnboardingService: @unchecked Sendable {
    // @unchecked: `consumers` is only touched by start/stop, which the daemon calls in sequence.
    public let settings: OnboardingSettings
    public let handlers: [any ControlMessageHandler]
    /// Counters shared by every handler, for the metrics exporter.
    public let metrics: OnboardingMetrics
    let logger: Logger
    let now: @Sendable () -> Int64
    private var consumers: [ControlStreamConsumer] = []

    public init(settings: OnboardingSettings, handlers: [any ControlMessageHandler], logger: Logger,
                metrics: OnboardingMetrics = OnboardingMetrics(),
                now: @escaping @Sendable () -> Int64 = { ControlContext.wallClockSeconds() }) {
        self.settings = settings
        self.handlers = handlers
        self.logger = logger
        self.metrics = metrics
        self.now = now
    }

    /// This module's handlers: registration/deregistration (`register`) and token exchange
    /// (`token:exchange`). The daemon appends the subject and schema handlers.
    public static func standardHandlers(settings: OnboardingSettings) -> [any ControlMessageHandler] {
        [RegistrationHandler(settings: settings), TokenExchangeHandler(settings: settings)]
    }

    /// Logs configuration problems once, creates every consumer group (so that readiness implies
    /// the groups exist, docs/operations.md, "Start-up"), then starts one consumer thread per handler.
    /// Throws when Redis cannot be reached or refuses to create a group.
    public func start() throws(RedisError) {
        guard consumers.isEmpty else { return }
        settings.logProblems(logger)
        let redis = try settings.redis.connectClient()
        defer { redis.close() }
        for handler in handlers {
            try ControlStreamConsumer.createGroup(stream: settings.key(handler.streamSuffix), group: settings.consumerGroup,
                                                  redis: redis)
        }
        consumers = handlers.map {
            ControlStreamConsumer(handler: $0, settings: settings, logger: logger, metrics: metrics, now: now)
        }
        for consumer in consumers { consumer.start() }
        logger.info("control stream consumers started", metadata: [
            "event": "infra", "component": "onboarding", "stage": "startup", "outcome": "success",
            "streams": .string(handlers.map { settings.key($0.streamSuffix) }.joined(separator: ",")),
        ])
    }

    /// Stops every consumer and waits for their threads.
    public func stop() {
        for consumer in consumers { consumer.requestStop() }
        for consumer in consumers { consumer.stop() }
        consumers = []
    }
}
