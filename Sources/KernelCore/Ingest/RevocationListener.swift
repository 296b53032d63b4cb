import KernelAuth
import KernelRedis
import Logging

/// Subscribes to `<key_prefix>ingest:revocations` and hands what other kernels announce to the
/// process's `IngestRevocations` (docs/architecture.md, "Deregistrations and revocations").
///
/// One dedicated thread and connection (a subscribed connection can do nothing else). A message
/// records the change it names when that refuses more (a revoked token, a disabled producer) and
/// asks the processors to re-read Postgres, which is the authority: a re-enabled producer, or a
/// change whose message was lost, comes from there. Every (re)subscription also asks for a
/// re-read, since messages published while this kernel was not subscribed are gone (Redis
/// pub/sub keeps nothing). A connection that answers no PING for `deadAfterSeconds` is replaced.
final class RevocationListener: Sendable {
    // The connection is a local of the listener's thread (`run`).
    let settings: RedisSettings
    let channel: String
    let revocations: IngestRevocations
    let logger: Logger
    let pingEverySeconds = 5.0
    let deadAfterSeconds = 15.0
    private let stopFlag = StopFlag()
    private let done = Semaphore()

    init(settings: RedisSettings, keyPrefix: String, revocations: IngestRevocations, logger: Logger) {
        self.settings = settings
        self.channel = IngestRevocations.channel(keyPrefix: keyPrefix)
        self.revocations = revocations
        self.logger = logger
    }

    func start() {
        DedicatedThread.start(name: "dk-revocations") { [self] in
            run()
            done.signal()
        }
    }

    /// Stops the thread (within a poll interval) and waits for it.
    func stop() {
        stopFlag.set()
        _ = done.wait(timeoutSeconds: 5)
    }

    private func run() {
        // Logged once per lost subscription, not at every attempt while Redis stays down.
        retryWithBackoff(Backoff(baseMs: 100, maxMs: 2000), until: stopFlag, sleep: { sleepMs($0, unlessSet: stopFlag) },
                         failed: { failure in
            guard failure.isFirst else { return }
            logger.warning("revocation notifications unavailable; the periodic refresh still applies", metadata: [
                "event": "infra", "component": "ingest", "reason_code": "redis_unavailable",
                "channel": .string(channel), "details": .string(failure.error.message),
            ])
        }) { connected throws(RedisError) in
            guard !stopFlag.isSet else { return }
            try listen(connected)
        }
    }

    /// One subscription, until the connection fails or `stop`.
    private func listen(_ subscribed: () -> Void) throws(RedisError) {
        // One node is enough on a Redis Cluster too: PUBLISH reaches every node's subscribers.
        let connection = try settings.connect()
        defer { connection.close() }
        connection.setTimeout(ms: max(settings.commandTimeoutMs, 1000))
        let reply = try connection.command(["SUBSCRIBE", channel])
        guard let items = reply.array, items.first?.text == "subscribe" else {
            throw RedisError(kind: .reply, message: "SUBSCRIBE \(channel): \(reply)")
        }
        subscribed()
        revocations.requestReload()
        logger.info("listening for revocation notifications", metadata: [
            "event": "infra", "component": "ingest", "channel": .string(channel),
        ])
        var lastHeard = monotonicSeconds()
        var lastPing = lastHeard
        while !stopFlag.isSet {
            if let reply = try connection.nextReply(timeoutMs: 250) {
                lastHeard = monotonicSeconds()
                handle(reply)
            }
            let now = monotonicSeconds()
            if now - lastHeard > deadAfterSeconds {
                throw RedisError(kind: .io, message: "no answer to PING for \(Int(deadAfterSeconds)) s")
            }
            if now - lastPing >= pingEverySeconds {
                try connection.send([Array("PING".utf8)])
                lastPing = now
            }
        }
    }

    /// `["message", channel, text]`; anything else (a PING's `["pong", ""]`) only proves the
    /// connection alive.
    private func handle(_ reply: RedisReply) {
        guard let items = reply.array, items.count == 3, items[0].text == "message", let text = items[2].text else { return }
        guard let change = revocations.parse(text) else { return }   // our own, or not ours to read
        switch change {
        case .tokenRevoked, .producerDisabled: revocations.record(change)
        case .producerEnabled: break   // only Postgres may let a producer back in
        }
        revocations.requestReload()
        logger.info("revocation notification", metadata: [
            "event": "auth", "component": "ingest", "change": .string(String(text.drop { $0 != " " }.dropFirst())),
        ])
    }
}
