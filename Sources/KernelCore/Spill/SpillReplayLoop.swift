import KernelSpill
import Logging

/// The replay thread of a running kernel: every `intervalSeconds`, when the circuit breaker
/// allows a Postgres attempt and the spill holds data, it seals the active segment and replays
/// every closed one (SPEC §8: automatic replay and erase). New events keep flowing through the
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
            // Sleep in short steps so shutdown is prompt.
            var slept = 0.0
            while slept < intervalSeconds && !stop.isSet { sleepMs(100); slept += 0.1 }
        }
        for replayer in replayers { replayer.close() }
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
            health.recordFailure(reasonCode: "spill_replay_paused")
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
