import Foundation
import KernelConfig
import KernelRedis
import KernelCore
import KernelEvents
import KernelPlugins
import KernelSpill
import KernelStore
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `kernel-bench spill`: the outage path in process. Trade events are normalized by the real
/// trade plugin into the rows the writers would store, then (1) appended to spill segments the
/// way the writers do while Postgres is down (one fsync per batch) and (2) replayed into Postgres
/// by the kernel's replayer, while a sampler watches the process RSS.
struct SpillBench {
    var settings: BenchEnvironment.Settings
    /// Spill to write before replaying (default 1 GiB).
    var targetBytes = 1 << 30
    var batchSize = 1000

    func run() throws {
        let env = try BenchEnvironment(settings: settings)
        defer { env.tearDown() }
        try env.seed(families: ["trade"])
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let (registry, _) = try Startup.loadPlugins(directory: settings.pluginsDir, configJSON: { _ in "{}" }, on: env.pg, logger: logger)
        guard let route = registry.route(family: "trade", version: 1), let producer = env.producer,
              let schema = env.schemas["trade"].flatMap({ EventUUID($0) })
        else { throw BenchError("spill bench: the trade plugin is not loaded from \(settings.pluginsDir)") }

        let spillDir = env.dir + "/spill"
        let directory = try SpillDirectory(path: spillDir)
        let appender = try SpillAppender(directory: directory, segmentBytes: 64 << 20, maxBytes: targetBytes * 2, logger: logger)
        var factory = MarketEventFactory(seed: 42, mix: .tradeOnly, subjects: env.subjects, ids: env.settings.eventIDs)
        let nowMicros = Int64(Date().timeIntervalSince1970 * 1e6)

        // Phase 1: spill writes. Generation and normalization are outside the clock.
        var events = 0
        var spillSeconds = 0.0
        var entry = 0
        print("spill write: trade events, batches of \(batchSize), one fsync per batch, target \(targetBytes >> 20) MiB")
        while appender.totalBytes < targetBytes {
            var batch: [StoredEvent] = []
            var origins: [EventOrigin] = []
            batch.reserveCapacity(batchSize)
            origins.reserveCapacity(batchSize)
            for _ in 0..<batchSize {
                entry += 1
                let event = factory.next(tsMicros: nowMicros - Int64(entry % 1_000_000))
                let bytes = Array(event.envelope.utf8)
                let envelope = try EventEnvelope.parse(bytes)
                let inner = Array(bytes[envelope.payloadRange])
                let input = EventInput(family: "trade", schemaVersion: 1, eventID: envelope.eventID.description,
                                       subjectID: envelope.subjectID.description, tsUnixNanos: envelope.tsNanos, payload: inner)
                guard case .success(let normalized) = route.instance.normalize(input) else { continue }
                var stored = StoredEvent(
                    eventID: envelope.eventID, tsMicros: envelope.tsNanos / 1000,
                    tsEventMicros: normalized.eventTimeNanos.map { $0 / 1000 }, subjectID: envelope.subjectID,
                    producerID: producer, schemaID: schema, family: route.family, payloadJSON: [],
                    rows: normalized.rows, tags: envelope.tags.map { Tag(key: $0.key, value: $0.value) } + normalized.tags,
                    mayBeRedelivery: false)
                stored.sourcePayload = bytes
                let entryID = "\(1_764_000_000_000 + entry)-0"
                batch.append(stored)
                origins.append(EventOrigin(entryID: entryID, dlqID: entryID))
            }
            let t0 = BenchClock.now()
            _ = try appender.append(batch, origins: origins)
            spillSeconds += BenchClock.now() - t0
            events += batch.count
        }
        try appender.sealActive()
        let segments = try directory.segments()
        let bytes = segments.reduce(0) { $0 + $1.bytes }
        print("  \(Fmt.grouped(events)) events, \(bytes >> 20) MiB in \(segments.count) segments: "
              + "\(Fmt.grouped(Int(Double(events) / spillSeconds))) events/s, \(Fmt.fixed(Double(bytes) / 1_048_576 / spillSeconds, 1)) MiB/s "
              + "(\(bytes / max(1, events)) bytes/event)")

        // Phase 2: replay into Postgres, RSS sampled every 50 ms.
        let replayers = (0..<max(1, settings.writeConnections)).map { _ in
            SpillReplayer(directory: directory, dsn: env.dsn, batchSize: batchSize,
                          deadLetters: DeadLetterWriter(dlqStream: env.dlqKey, settings: (try! KernelConfig.parse(yaml: env.yaml())).redisSettings),
                          metrics: nil, logger: logger)
        }
        let sampler = RSSSampler()
        let rssBefore = RSSSampler.currentKiB()
        sampler.start()
        let t0 = BenchClock.now()
        let marks = Mutex<[(Double, Int)]>([])
        let totalBytes = bytes
        let outcome = ParallelSpillReplay.run(segments, replayers: replayers) { done in
            marks.withLock { $0.append((Double(done) / Double(max(1, totalBytes)), RSSSampler.currentKiB())) }
        }
        let seconds = BenchClock.now() - t0
        sampler.stop()
        for replayer in replayers { replayer.close() }
        let stored = try env.rows(in: "md_trade")
        print("spill replay (\(replayers.count) connections): \(Fmt.grouped(outcome.events)) events in \(Fmt.fixed(seconds, 1)) s = "
              + "\(Fmt.grouped(Int(Double(outcome.events) / seconds))) events/s (stored \(Fmt.grouped(stored)) rows, complete: \(outcome.complete))")
        // RSS at 10 %, 50 % and 90 % of the bytes replayed: flat means the replay holds one batch, not the spill.
        func at(_ fraction: Double) -> String {
            guard let mark = marks.withLock({ $0 }).first(where: { $0.0 >= fraction }) else { return "-" }
            return "\(mark.1 / 1024) MiB"
        }
        print("  RSS before replay \(rssBefore / 1024) MiB; during replay: at 10% \(at(0.1)), 50% \(at(0.5)), 90% \(at(0.9)); "
              + "peak \(sampler.peakKiB / 1024) MiB; spill left: \(try directory.segments().count) segments")
    }
}

/// Samples VmRSS of this process on a background thread.
final class RSSSampler: Sendable {
    private struct State {
        var peak = 0
        var running = false
    }
    private let state = Mutex(State())

    var peakKiB: Int { state.withLock { $0.peak } }

    func start() {
        let first = Self.currentKiB()
        state.withLock { $0 = State(peak: first, running: true) }
        Thread.detachNewThread { [self] in
            while state.withLock({ $0.running }) {
                let now = Self.currentKiB()
                state.withLock { $0.peak = max($0.peak, now) }
                usleep(50_000)
            }
        }
    }

    func stop() { state.withLock { $0.running = false } }

    static func currentKiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}
