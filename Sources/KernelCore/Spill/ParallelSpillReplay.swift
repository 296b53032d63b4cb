import KernelSpill
import Synchronization

/// Replays segments with several `SpillReplayer`s at once, one connection each, taking segments
/// oldest first from a shared list. Segments are independent (each is erased after its own rows
/// committed), so Postgres writes one segment's batch while another worker decodes the next —
/// one connection alone left Postgres idle during decoding and capped replay near 30k events/s.
public enum ParallelSpillReplay {
    /// Replays `segments` with `replayers` (one thread each; the first runs on the caller's
    /// thread). `progress` receives the bytes of segments finished so far.
    public static func run(_ segments: [SpillSegmentInfo], replayers: [SpillReplayer],
                           progress: (@Sendable (Int64) -> Void)? = nil) -> SpillReplayer.Outcome {
        guard replayers.count > 1, segments.count > 1 else {
            return replayers[0].replay(segments, progress: progress)
        }
        struct Shared {
            var next = 0
            var stopped = false
            var doneBytes: Int64 = 0
            var outcome = SpillReplayer.Outcome()
        }
        let shared = Mutex(Shared())
        let work: @Sendable (SpillReplayer) -> Void = { replayer in
            while true {
                let taken: SpillSegmentInfo? = shared.withLock { s in
                    guard !s.stopped, s.next < segments.count else { return nil }
                    defer { s.next += 1 }
                    return segments[s.next]
                }
                guard let segment = taken else { return }
                let one = replayer.replay([segment])
                let done = shared.withLock { s -> Int64 in
                    s.outcome.segments += one.segments
                    s.outcome.events += one.events
                    s.outcome.inserted += one.inserted
                    s.outcome.duplicates += one.duplicates
                    s.outcome.deadLettered += one.deadLettered
                    s.outcome.damaged += one.damaged
                    s.outcome.unreadableBytes += one.unreadableBytes
                    if !one.complete {
                        // Postgres went away: stop handing out segments; the rest wait.
                        s.outcome.complete = false
                        s.outcome.serverStarting = s.outcome.serverStarting || one.serverStarting
                        s.stopped = true
                    }
                    s.doneBytes += Int64(segment.bytes)
                    return s.doneBytes
                }
                progress?(done)
            }
        }
        let done = Semaphore()
        for replayer in replayers.dropFirst() {
            DedicatedThread.start(name: "dk-spill-replay-worker") { work(replayer); done.signal() }
        }
        work(replayers[0])
        for _ in replayers.dropFirst() { _ = done.wait(timeoutSeconds: 86_400) }
        return shared.withLock { $0.outcome }
    }
}
