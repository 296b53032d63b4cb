import KernelVersion
import Metrics
import Prometheus
import Synchronization

/// Every metric of docs/admin.md, "Metrics", registered at construction so each
/// one is exposed — at zero — from start-up, and rendered in the Prometheus text format.
///
/// Callers never type a metric name: unlabeled series are stored properties
/// (`metrics.redisReadTotal.increment(by: n)`), labeled ones are methods taking the label values
/// (`metrics.rateLimitAllow(op: "reg")`). Counters take deltas, so a component that keeps its own
/// atomic counters pushes the difference since its last sync (see `AdminServer`'s `beforeScrape`).
public final class KernelMetrics: Sendable {
    /// The underlying swift-prometheus registry (e.g. for `PrometheusMetricsFactory`).
    public let registry: PrometheusCollectorRegistry
    private let synced = SyncedTotals()
    private let normalizeHistograms = Mutex<[String: MetricHistogram]>([:])

    // MARK: Counters
    public let redisReadTotal: MetricCounter
    public let redisAckTotal: MetricCounter
    public let redisDLQTotal: MetricCounter
    public let authDeniedTotal: MetricCounter
    public let ingestDroppedTotal: MetricCounter
    public let pgCommitTotal: MetricCounter
    public let pgErrorsTotal: MetricCounter
    public let spillWriteTotal: MetricCounter
    public let spillBytesTotal: MetricCounter
    public let spillReplayTotal: MetricCounter
    public let registrationRateLimitedTotal: MetricCounter
    public let registrationRateLimitErrorsTotal: MetricCounter
    public let adminMTLSDeniedTotal: MetricCounter
    public let adminSignatureInvalidTotal: MetricCounter
    public let adminReplayTotal: MetricCounter
    public let canonicalVerifyFailTotal: MetricCounter
    // Kernel additions.
    public let duplicateEventsTotal: MetricCounter
    /// Plugin-host children that died or were killed for a hang (`plugins.isolation: process`).
    public let pluginHostDeathsTotal: MetricCounter
    /// Plugins quarantined since start (the gauge `kernel_plugins_quarantined` says how many now).
    public let pluginQuarantinesTotal: MetricCounter
    public let spillReplayErrorsTotal: MetricCounter
    public let spillReplayEventsTotal: MetricCounter
    /// Monthly partitions created ahead, and dropped past retention, by partition maintenance.
    public let partitionsCreatedTotal: MetricCounter
    public let partitionsDroppedTotal: MetricCounter

    // MARK: Histograms
    public let redisBatchSeconds: MetricHistogram
    public let pgBatchSeconds: MetricHistogram
    public let pgBatchSize: MetricHistogram
    public let redisMessageLagSeconds: MetricHistogram
    public let redisAckLatencySeconds: MetricHistogram
    public let registrationPersistSeconds: MetricHistogram
    // Kernel additions.
    /// Entries returned by one XREADGROUP call.
    public let redisReadBatchSize: MetricHistogram
    /// Event `ts` → durable (commit or spill fsync), seconds.
    public let endToEndLagSeconds: MetricHistogram

    // MARK: Gauges
    public let redisPending: MetricGauge
    public let redisStreamLength: MetricGauge
    public let spillFiles: MetricGauge
    public let producerActive: MetricGauge
    public let subjectActive: MetricGauge
    // Kernel additions.
    /// 0 closed, 1 half-open, 2 open.
    public let pgCircuitState: MetricGauge
    /// Bytes currently held in spill files.
    public let spillBytes: MetricGauge
    /// Plugins serving, retired (still mapped, never called) and quarantined (the alert).
    public let pluginsActive: MetricGauge
    public let pluginsRetired: MetricGauge
    public let pluginsQuarantined: MetricGauge

    /// Rate-limit ops pre-created at zero (docs/onboarding.md, "Rate limits and anti-replay").
    public static let rateLimitOps = ["reg", "subject", "token", "schema"]
    /// DLQ reasons pre-created at zero (docs/protocol.md, "Ingest checks, in order").
    public static let dlqReasons = [
        "message_too_large", "empty_payload", "unauthenticated", "producer_disabled", "bad_event_json", "ts_out_of_range",
        "subject_mismatch_token", "producer_subject_forbidden", "missing_subject_schema", "normalize_failed",
        "poison_message", "persist_failed", "event_id_conflict",
    ]
    /// Spill damage causes pre-created at zero (the damage reason codes of docs/spill.md, torn
    /// tails excepted: they lose nothing acknowledged), so an alert on a rise sees a series.
    public static let spillDamageCauses = [
        "spill_bad_header", "spill_bad_checksum", "spill_bad_length", "spill_bad_magic", "spill_truncated", "spill_bad_record",
    ]

    /// Every family, in exposition order.
    public static let families: [MetricFamilyInfo] = [
        .init("kernel_redis_read_total", .counter, "Event entries read from the events stream."),
        .init("kernel_redis_ack_total", .counter, "Event entries acknowledged (XACK)."),
        .init("kernel_redis_dlq_total", .counter, "Event entries written to the dead-letter stream."),
        .init("kernel_auth_denied_total", .counter, "Events refused because their token did not verify."),
        .init("kernel_ingest_dropped_total", .counter, "Accepted events dropped before storage (never, unless dropping is enabled)."),
        .init("kernel_pg_commit_total", .counter, "Postgres batch transactions committed."),
        .init("kernel_pg_errors_total", .counter, "Postgres batch failures."),
        .init("kernel_spill_write_total", .counter, "Events written to spill files (Postgres unreachable)."),
        .init("kernel_spill_bytes_total", .counter, "Bytes written to spill files."),
        .init("kernel_spill_replay_total", .counter, "Events replayed from spill files into Postgres."),
        .init("kernel_registration_rate_limited_total", .counter, "Control-plane requests refused by the rate limiter."),
        .init("kernel_registration_rate_limit_errors_total", .counter, "Rate-limiter Redis errors (fail closed)."),
        .init("kernel_admin_mtls_denied_total", .counter, "Admin requests refused at the TLS client-certificate check."),
        .init("kernel_admin_signature_invalid_total", .counter, "Admin requests whose signature did not verify."),
        .init("kernel_admin_replay_total", .counter, "Admin requests refused for a reused nonce."),
        .init("kernel_canonical_verify_fail_total", .counter, "Producer signatures over canonical JSON that did not verify."),
        .init("kernel_rate_limit_allow_total", .counter, "Rate-limiter allowances by op.", labels: ["op"]),
        .init("kernel_rate_limit_deny_total", .counter, "Rate-limiter denials by op.", labels: ["op"]),
        .init("kernel_registration_outcome_total", .counter, "Control-plane outcomes.", labels: ["stage", "action", "outcome"]),
        .init("kernel_duplicate_events_total", .counter, "Redelivered events whose event_id was already stored."),
        .init("kernel_plugin_host_deaths_total", .counter,
              "Plugin-host children (plugins.isolation: process) that died or were killed for a hang."),
        .init("kernel_plugin_quarantines_total", .counter, "Plugins quarantined for running past their call budget, since start."),
        .init("kernel_dlq_reason_total", .counter, "Dead-lettered events by reason code.", labels: ["reason"]),
        .init("kernel_normalize_total", .counter, "Normalizer plugin calls by family and outcome (ok, error).",
              labels: ["family", "outcome"]),
        .init("kernel_spill_replay_errors_total", .counter, "Damaged spill records found during replay."),
        .init("kernel_spill_replay_events_total", .counter, "Events replayed from spill files."),
        .init("kernel_partitions_created_total", .counter, "Monthly partitions created ahead by partition maintenance."),
        .init("kernel_partitions_dropped_total", .counter, "Monthly partitions dropped past retention (retention.*)."),
        .init("kernel_spill_damaged_records_total", .counter,
              "Spill records lost to damage found during replay, by cause (the damage reason code).", labels: ["cause"]),
        .init("kernel_admin_requests_total", .counter, "Admin API requests by route and HTTP status.", labels: ["route", "code"]),
        .init("kernel_admin_denied_total", .counter, "Admin API authentication refusals by reason code.", labels: ["reason"]),
        .init("kernel_redis_batch_seconds", .histogram, "Time to process one batch read from Redis.", buckets: MetricBuckets.defaultSeconds),
        .init("kernel_pg_batch_seconds", .histogram, "Time to write one batch to Postgres.", buckets: MetricBuckets.defaultSeconds),
        .init("kernel_pg_batch_size", .histogram, "Events per Postgres batch.", buckets: MetricBuckets.batchSize),
        .init("kernel_redis_message_lag_seconds", .histogram, "Now minus the Redis entry id's timestamp at read.",
              buckets: MetricBuckets.messageLag),
        .init("kernel_redis_ack_latency_seconds", .histogram, "Read to XACK, seconds (per committed batch, its earliest-read entry).", buckets: MetricBuckets.ackLatency),
        .init("kernel_registration_persist_seconds", .histogram, "Registration persistence time.", buckets: MetricBuckets.persist),
        .init("kernel_redis_read_batch_size", .histogram, "Entries returned by one XREADGROUP.", buckets: MetricBuckets.batchSize),
        .init("kernel_end_to_end_lag_seconds", .histogram, "Event ts to durable write, seconds (per committed batch, its oldest event).", buckets: MetricBuckets.messageLag),
        .init("kernel_normalize_seconds", .histogram, "Normalizer plugin call time by family.", labels: ["family"],
              buckets: MetricBuckets.normalize),
        .init("kernel_redis_pending", .gauge, "Entries pending in the consumer group (PEL size)."),
        .init("kernel_redis_stream_length", .gauge, "Length of the events stream."),
        .init("kernel_spill_files", .gauge, "Spill files waiting for replay."),
        .init("kernel_spill_bytes", .gauge, "Bytes held in spill files waiting for replay."),
        .init("kernel_producer_active", .gauge, "Distinct producers seen in the last 5 minutes."),
        .init("kernel_subject_active", .gauge, "Distinct subjects seen in the last 5 minutes."),
        .init("kernel_build_info", .gauge, "Always 1; the labels say which kernel runs.", labels: ["version", "commit"]),
        .init("kernel_pg_circuit_state", .gauge, "Postgres circuit breaker: 0 closed, 1 half-open, 2 open."),
        .init("kernel_plugins_active", .gauge, "Normalizer plugins serving."),
        .init("kernel_plugins_retired", .gauge, "Plugin versions retired by an upgrade or removal (still mapped)."),
        .init("kernel_plugins_quarantined", .gauge, "Plugins quarantined for exceeding their call budget (alert when > 0)."),
        .init("kernel_parked_events_total", .counter,
              "Events of a typed family parked (kept pending) because no plugin served it, by family.", labels: ["family"]),
        .init("kernel_plugin_slow_calls_total", .counter, "Normalize calls past plugins.call_budget_ms, by family.",
              labels: ["family"]),
    ]

    /// Registers every family; labeled families with a known value set (rate-limit ops, DLQ
    /// reasons) get their series at zero, the others are announced with `# TYPE` until first use.
    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let synced = self.synced
        let info = Dictionary(uniqueKeysWithValues: Self.families.map { ($0.name, $0) })
        func counter(_ name: String) -> MetricCounter {
            MetricCounter(counter: registry.makeCounter(descriptor: Self.descriptor(info[name]!)), key: name, book: synced)
        }
        func gauge(_ name: String) -> MetricGauge {
            MetricGauge(gauge: registry.makeGauge(descriptor: Self.descriptor(info[name]!)))
        }
        func histogram(_ name: String) -> MetricHistogram {
            let family = info[name]!
            return MetricHistogram(histogram: registry.makeValueHistogram(descriptor: Self.descriptor(family), buckets: family.buckets))
        }
        redisReadTotal = counter("kernel_redis_read_total")
        redisAckTotal = counter("kernel_redis_ack_total")
        redisDLQTotal = counter("kernel_redis_dlq_total")
        authDeniedTotal = counter("kernel_auth_denied_total")
        ingestDroppedTotal = counter("kernel_ingest_dropped_total")
        pgCommitTotal = counter("kernel_pg_commit_total")
        pgErrorsTotal = counter("kernel_pg_errors_total")
        spillWriteTotal = counter("kernel_spill_write_total")
        spillBytesTotal = counter("kernel_spill_bytes_total")
        spillReplayTotal = counter("kernel_spill_replay_total")
        registrationRateLimitedTotal = counter("kernel_registration_rate_limited_total")
        registrationRateLimitErrorsTotal = counter("kernel_registration_rate_limit_errors_total")
        adminMTLSDeniedTotal = counter("kernel_admin_mtls_denied_total")
        adminSignatureInvalidTotal = counter("kernel_admin_signature_invalid_total")
        adminReplayTotal = counter("kernel_admin_replay_total")
        canonicalVerifyFailTotal = counter("kernel_canonical_verify_fail_total")
        duplicateEventsTotal = counter("kernel_duplicate_events_total")
        pluginHostDeathsTotal = counter("kernel_plugin_host_deaths_total")
        pluginQuarantinesTotal = counter("kernel_plugin_quarantines_total")
        spillReplayErrorsTotal = counter("kernel_spill_replay_errors_total")
        spillReplayEventsTotal = counter("kernel_spill_replay_events_total")
        partitionsCreatedTotal = counter("kernel_partitions_created_total")
        partitionsDroppedTotal = counter("kernel_partitions_dropped_total")
        redisBatchSeconds = histogram("kernel_redis_batch_seconds")
        pgBatchSeconds = histogram("kernel_pg_batch_seconds")
        pgBatchSize = histogram("kernel_pg_batch_size")
        redisMessageLagSeconds = histogram("kernel_redis_message_lag_seconds")
        redisAckLatencySeconds = histogram("kernel_redis_ack_latency_seconds")
        registrationPersistSeconds = histogram("kernel_registration_persist_seconds")
        redisReadBatchSize = histogram("kernel_redis_read_batch_size")
        endToEndLagSeconds = histogram("kernel_end_to_end_lag_seconds")
        redisPending = gauge("kernel_redis_pending")
        redisStreamLength = gauge("kernel_redis_stream_length")
        spillFiles = gauge("kernel_spill_files")
        spillBytes = gauge("kernel_spill_bytes")
        producerActive = gauge("kernel_producer_active")
        subjectActive = gauge("kernel_subject_active")
        pgCircuitState = gauge("kernel_pg_circuit_state")
        pluginsActive = gauge("kernel_plugins_active")
        pluginsRetired = gauge("kernel_plugins_retired")
        pluginsQuarantined = gauge("kernel_plugins_quarantined")
        for op in Self.rateLimitOps {
            _ = rateLimitAllow(op: op)
            _ = rateLimitDeny(op: op)
        }
        for reason in Self.dlqReasons { _ = dlqReason(reason) }
        for cause in Self.spillDamageCauses { _ = spillDamagedRecords(cause: cause) }
        // Set once: a dashboard joins on it (and its `instance`) to tell which release runs where.
        registry.makeGauge(descriptor: Self.descriptor(Self.family("kernel_build_info")),
                           labels: [("version", KernelVersion.version), ("commit", KernelVersion.commit)]).set(to: 1)
    }

    // MARK: Labeled series

    /// `kernel_rate_limit_allow_total{op}`.
    public func rateLimitAllow(op: String) -> MetricCounter { labeledCounter("kernel_rate_limit_allow_total", [("op", op)]) }
    /// `kernel_rate_limit_deny_total{op}`.
    public func rateLimitDeny(op: String) -> MetricCounter { labeledCounter("kernel_rate_limit_deny_total", [("op", op)]) }
    /// `kernel_registration_outcome_total{stage,action,outcome}`.
    public func registrationOutcome(stage: String, action: String, outcome: String) -> MetricCounter {
        labeledCounter("kernel_registration_outcome_total", [("stage", stage), ("action", action), ("outcome", outcome)])
    }
    /// `kernel_dlq_reason_total{reason}`: alongside `kernel_redis_dlq_total`, which stays unlabeled (its documented name).
    public func dlqReason(_ reason: String) -> MetricCounter { labeledCounter("kernel_dlq_reason_total", [("reason", reason)]) }
    /// `kernel_spill_damaged_records_total{cause}` (cause: a spill damage reason code).
    public func spillDamagedRecords(cause: String) -> MetricCounter {
        labeledCounter("kernel_spill_damaged_records_total", [("cause", cause)])
    }
    /// `kernel_normalize_total{family,outcome}` (outcome `ok` or `error`).
    public func normalize(family: String, outcome: String) -> MetricCounter {
        labeledCounter("kernel_normalize_total", [("family", family), ("outcome", outcome)])
    }
    /// `kernel_plugin_slow_calls_total{family}`.
    public func pluginSlowCalls(family: String) -> MetricCounter {
        labeledCounter("kernel_plugin_slow_calls_total", [("family", family)])
    }

    /// `kernel_parked_events_total{family}`.
    public func parkedEvents(family: String) -> MetricCounter {
        labeledCounter("kernel_parked_events_total", [("family", family)])
    }

    /// `kernel_normalize_seconds{family}`. Observed after every plugin call, so each family's
    /// series is looked up once and kept: asking the registry each time (a lock, the label key
    /// built anew, tuple metadata instantiated) was 1.3 % of the kernel's CPU at 10k events/s.
    public func normalizeSeconds(family: String) -> MetricHistogram {
        normalizeHistograms.withLock { known in
            if let histogram = known[family] { return histogram }
            let info = Self.family("kernel_normalize_seconds")
            let histogram = MetricHistogram(histogram: registry.makeValueHistogram(descriptor: Self.descriptor(info),
                                                                                   labels: [("family", family)], buckets: info.buckets))
            known[family] = histogram
            return histogram
        }
    }
    /// `kernel_admin_requests_total{route,code}`.
    public func adminRequests(route: String, code: Int) -> MetricCounter {
        labeledCounter("kernel_admin_requests_total", [("route", route), ("code", String(code))])
    }
    /// `kernel_admin_denied_total{reason}`.
    public func adminDenied(reason: String) -> MetricCounter { labeledCounter("kernel_admin_denied_total", [("reason", reason)]) }

    // MARK: Exposition

    /// The Prometheus text exposition (format 0.0.4): families sorted by name; a labeled family
    /// with no series yet is announced by its `# HELP`/`# TYPE` lines so every name is present.
    public func render() -> String {
        let text = registry.emitToString()
        // swift-prometheus emits families in dictionary order; every family here has help text,
        // so each block starts with "# HELP ".
        var blocks: [String: String] = [:]
        var current: (name: String, lines: [Substring])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") {
                if let current { blocks[current.name] = current.lines.joined(separator: "\n") + "\n" }
                let name = line.dropFirst(7).prefix { $0 != " " }
                current = (String(name), [line])
            } else {
                current?.lines.append(line)
            }
        }
        if let current { blocks[current.name] = current.lines.joined(separator: "\n") + "\n" }
        var out = ""
        for family in Self.families.sorted(by: { $0.name < $1.name }) {
            if let block = blocks.removeValue(forKey: family.name) {
                out += block
            } else {
                out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            }
        }
        // Families registered through the swift-metrics factory (not in `families`).
        for (_, block) in blocks.sorted(by: { $0.key < $1.key }) { out += block }
        // `process_*` sorts after every `kernel_*` family.
        out += ProcessMetrics.render()
        return out
    }

    /// A swift-metrics factory writing into this registry. `MetricsSystem.bootstrap` may run once
    /// per process: the daemon calls `bootstrapMetricsSystem()`, tests do not.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    // MARK: Helpers

    private func labeledCounter(_ name: String, _ labels: [(String, String)]) -> MetricCounter {
        MetricCounter(counter: registry.makeCounter(descriptor: Self.descriptor(Self.family(name)), labels: labels),
                      key: name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{1}") + "}", book: synced)
    }

    private static let byName: [String: MetricFamilyInfo] = Dictionary(uniqueKeysWithValues: families.map { ($0.name, $0) })

    static func family(_ name: String) -> MetricFamilyInfo { byName[name]! }

    /// The whole name goes in `metricName` with an empty unit: our names already end in their unit.
    static func descriptor(_ family: MetricFamilyInfo) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: family.name, unitName: "", helpText: family.help)
    }
}
