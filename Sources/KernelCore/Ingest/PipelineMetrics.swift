import KernelMetrics
import Synchronization

/// Live counters of the ingest pipeline (docs/admin.md, "Metrics"). Exported by the metrics endpoint; read
/// by tests and the benchmark. Increments are lock-free.
public final class PipelineMetrics: Sendable {
    public let readTotal = Atomic<Int>(0)
    /// Reads of the event stream that brought new entries (`readTotal` / this = entries per read).
    public let readCallsTotal = Atomic<Int>(0)
    public let ackTotal = Atomic<Int>(0)
    public let dlqTotal = Atomic<Int>(0)
    public let authDeniedTotal = Atomic<Int>(0)
    public let commitTotal = Atomic<Int>(0)
    public let storedEventsTotal = Atomic<Int>(0)
    public let duplicateEventsTotal = Atomic<Int>(0)
    public let pgErrorsTotal = Atomic<Int>(0)
    /// Events written to the spill, and their encoded bytes (`kernel_spill_write_total`, `kernel_spill_bytes_total`).
    public let spillWriteTotal = Atomic<Int>(0)
    public let spillBytesTotal = Atomic<Int>(0)
    /// Spill writes that failed for I/O reasons (the batch was held, not lost).
    public let spillErrorsTotal = Atomic<Int>(0)
    /// Events replayed from the spill into Postgres (`kernel_spill_replay_total`).
    public let spillReplayTotal = Atomic<Int>(0)
    /// Spill records lost to damage found during replay (torn tails of never-sealed segments are
    /// not damage); by cause in `spillDamagedRecordsByCause`.
    public let spillDamageTotal = Atomic<Int>(0)
    /// True while a writer holds a batch because the spill is at `spill.max_bytes`.
    public let spillBudgetBlocked = Atomic<Bool>(false)
    private let dlqByReason = Mutex<[String: Int]>([:])
    private let spillDamagedByCause = Mutex<[String: Int]>([:])
    /// The Prometheus registry's histograms, once the daemon attaches it (per batch, not per event).
    private let histograms = Mutex<KernelMetrics?>(nil)

    /// Sends per-batch observations (batch sizes, write times, lag) to `metrics` from now on.
    public func attach(_ metrics: KernelMetrics) { histograms.withLock { $0 = metrics } }

    func observeRead(entries: Int, oldestIDMillis: Int64?) {
        guard let m = histograms.withLock({ $0 }) else { return }
        m.redisReadBatchSize.observe(Double(entries))
        if let ms = oldestIDMillis {
            m.redisMessageLagSeconds.observe(max(0, Double(Int64(wallNanos() / 1_000_000) - ms) / 1000))
        }
    }

    func observeWrite(events: Int, seconds: Double) {
        guard let m = histograms.withLock({ $0 }) else { return }
        m.pgBatchSize.observe(Double(events))
        m.pgBatchSeconds.observe(seconds)
    }

    /// `kernel_end_to_end_lag_seconds`: once per committed batch, for its oldest event (the
    /// batch's worst lag): event `ts` → durable.
    func observeDurable(oldestTsMicros: Int64) {
        guard let m = histograms.withLock({ $0 }) else { return }
        m.endToEndLagSeconds.observe(max(0, Double(wallNanos() / 1000 - oldestTsMicros) / 1e6))
    }

    /// `kernel_redis_ack_latency_seconds`: once per acknowledged round of a batch, read → XACK
    /// for its earliest read entry.
    func observeAcknowledged(readAtMicros: Int64) {
        guard readAtMicros > 0, let m = histograms.withLock({ $0 }) else { return }
        m.redisAckLatencySeconds.observe(max(0, Double(wallNanos() / 1000 - readAtMicros) / 1e6))
    }

    /// `kernel_redis_batch_seconds`: processing of one chunk read from Redis (checks,
    /// normalization, batching).
    func observeChunk(seconds: Double) {
        guard let m = histograms.withLock({ $0 }) else { return }
        m.redisBatchSeconds.observe(seconds)
    }

    /// `kernel_normalize_seconds{family}`: a plugin call group's CPU time per event.
    func observeNormalize(family: String, secondsPerEvent: Double) {
        guard let m = histograms.withLock({ $0 }) else { return }
        m.normalizeSeconds(family: family).observe(secondsPerEvent)
    }

    /// `kernel_ingest_dropped_total`: entries acknowledged without being stored or dead-lettered
    /// because their data was gone (trimmed or deleted from the stream before the kernel read
    /// them; nothing of theirs exists to store).
    public let droppedTotal = Atomic<Int>(0)

    /// Distinct producers and subjects seen recently (`kernel_producer_active`, `kernel_subject_active`).
    public let activity = ActivityTracker()

    public init() {}

    func read(_ n: Int) {
        readTotal.add(n, ordering: .relaxed)
        readCallsTotal.add(1, ordering: .relaxed)
    }
    func acked(_ n: Int) { ackTotal.add(n, ordering: .relaxed) }
    func committed(events: Int, duplicates: Int) {
        commitTotal.add(1, ordering: .relaxed)
        storedEventsTotal.add(events, ordering: .relaxed)
        duplicateEventsTotal.add(duplicates, ordering: .relaxed)
    }

    func spilled(events: Int, bytes: Int) {
        spillWriteTotal.add(events, ordering: .relaxed)
        spillBytesTotal.add(bytes, ordering: .relaxed)
    }

    func deadLettered(_ reason: RejectReason) {
        dlqTotal.add(1, ordering: .relaxed)
        if reason == .unauthenticated { authDeniedTotal.add(1, ordering: .relaxed) }
        dlqByReason.withLock { $0[reason.rawValue, default: 0] += 1 }
    }

    /// Counts `records` lost to spill damage of `cause` (a damage reason code, e.g. `spill_truncated`).
    func spillDamaged(cause: String, records: Int) {
        spillDamagedByCause.withLock { $0[cause, default: 0] += records }
    }

    /// Spill records lost to damage by cause (`kernel_spill_damaged_records_total{cause}`).
    public var spillDamagedRecordsByCause: [String: Int] { spillDamagedByCause.withLock { $0 } }

    /// DLQ counts by reason code.
    public var deadLettersByReason: [String: Int] { dlqByReason.withLock { $0 } }
}
