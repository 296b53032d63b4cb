import KernelPostgres
import KernelSpill
import Logging

/// The replay thread of a running kernel: every `intervalSeconds`, when the circuit breaker
/// allows a Postgres attempt and the spill holds data, it seals the active segment and replays
/// every closed one (automatic replay and erase: docs/spill.md, "Replay, quarantine and salvage"). New events keep flowing through the
/// writers meanwhile; both paths deduplicate, so nothing is stored twice.
final class SpillReplayLoop: @unchecked Sendable {
    // @unchecked: state confined to the replay thread.
    let appender: SpillAppender
    /// One per connection (`postgres.write_connections`), replaying segments in parallel.
    let replayers: [SpillReplayer]
    let health: PostgresHealth
    let stop: StopFlag
    let intervalSeconds: Double
    let logger: Logger
    /// Where the open breaker's probe connects (nil: no probe; writes wait for the timeout).
    var probeDSN: String?
    private var lastProbe = -Double.infinity

    init(appender: SpillAppender, replayers: [SpillReplayer], health: PostgresHealth, stop: StopFlag,
         intervalSeconds: Double, logger: Logger) {
        self.appender = appender
        self.replayers = replayers
        self.health = health
        self.stop = stop
        self.intervalSeconds = intervalSeconds
        self.logger = logger
    }

    func run() {
        while !stop.isSet {
            round()
            // Sleep in short steps so shutdown is prompt, probing an open breaker meanwhile.
            var slept = 0.0
            while slept < intervalSeconds && !stop.isSet {
                sleepMs(100)
                slept += 0.1
                if probeIfDue() { break }
            }
        }
        for replayer in replayers { replayer.close() }
    }

    /// While the breaker is open, one plain connection to Postgres a second: when it answers, the
    /// breaker turns half-open at once, so the spill is replayed within seconds of Postgres'
    /// return rather than after `circuit_breaker_timeout_seconds` (writes still wait for the
    /// breaker as before). A server that is starting up (57P03) is simply probed again next
    /// second. Returns true when the breaker was opened up by the probe.
    private func probeIfDue() -> Bool {
        guard let probeDSN, !health.allowsAttempt() else { return false }
        let now = monotonicSeconds()
        guard now - lastProbe >= 1 else { return false }
        lastProbe = now
        do throws(PGError) {
            let probe = try PGConnection(dsn: probeDSN, logger: logger)
            defer { probe.close() }
            _ = try probe.query("SELECT 1")
            health.probeSucceeded()
            return true
        } catch {
            return false
        }
    }

    func round() {
        guard health.allowsAttempt() else { return }
        let segments: [SpillSegmentInfo]
        do {
            guard try appender.hasData() else { return }
            try appender.sealActive()
            segments = try appender.closedSegments()
        } catch {
            logger.error("spill directory unreadable", metadata: [
                "event": "infra", "component": "spill", "details": .string("\(error)"),
            ])
            return
        }
        guard !segments.isEmpty else { return }
        let outcome = ParallelSpillReplay.run(segments, replayers: replayers)
        if outcome.complete {
            health.recordSuccess()
        } else {
            health.recordFailure(reasonCode: "spill_replay_paused", serverStarting: outcome.serverStarting)
        }
        if outcome.segments > 0 {
            logger.info("spill replay round", metadata: [
                "event": "infra", "component": "spill", "action": "replay", "outcome": outcome.complete ? "done" : "paused",
                "segments": "\(outcome.segments)", "events": "\(outcome.events)", "inserted": "\(outcome.inserted)",
                "duplicates": "\(outcome.duplicates)", "dead_lettered": "\(outcome.deadLettered)",
                "damaged": "\(outcome.damaged)",
            ])
        }
    }
}
