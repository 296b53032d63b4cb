import Foundation
import KernelMetrics
import Testing

/// The metric names of docs/admin.md, "Metrics", typed out here (not taken from `KernelMetrics.families`) so a typo in either
/// place fails.
let specCounters = [
    "kernel_redis_read_total", "kernel_redis_ack_total", "kernel_redis_dlq_total", "kernel_auth_denied_total",
    "kernel_ingest_dropped_total", "kernel_pg_commit_total", "kernel_pg_errors_total", "kernel_spill_write_total",
    "kernel_spill_bytes_total", "kernel_spill_replay_total", "kernel_registration_rate_limited_total",
    "kernel_registration_rate_limit_errors_total", "kernel_admin_mtls_denied_total", "kernel_admin_signature_invalid_total",
    "kernel_admin_replay_total", "kernel_canonical_verify_fail_total", "kernel_rate_limit_allow_total",
    "kernel_rate_limit_deny_total", "kernel_registration_outcome_total",
]
let specHistograms = [
    "kernel_redis_batch_seconds", "kernel_pg_batch_seconds", "kernel_pg_batch_size", "kernel_redis_message_lag_seconds",
    "kernel_redis_ack_latency_seconds", "kernel_registration_persist_seconds",
]
let specGauges = ["kernel_redis_pending", "kernel_redis_stream_length", "kernel_spill_files", "kernel_producer_active",
                  "kernel_subject_active"]

@Suite struct MetricsTests {
    @Test func everySpecMetricIsExposedAtZeroWithItsType() throws {
        let parsed = try PrometheusText(KernelMetrics().render())
        for name in specCounters { #expect(parsed.types[name] == "counter", "\(name)") }
        for name in specHistograms { #expect(parsed.types[name] == "histogram", "\(name)") }
        for name in specGauges { #expect(parsed.types[name] == "gauge", "\(name)") }
        // At zero from start-up (docs/admin.md, "Metrics").
        #expect(parsed.value("kernel_redis_read_total") == 0)
        #expect(parsed.value("kernel_redis_dlq_total") == 0)
        #expect(parsed.value("kernel_pg_batch_size_count") == 0)
        #expect(parsed.value("kernel_rate_limit_deny_total", ["op": "reg"]) == 0)
        // Kernel additions.
        for name in ["kernel_duplicate_events_total", "kernel_pg_circuit_state", "kernel_dlq_reason_total", "kernel_normalize_total",
                     "kernel_normalize_seconds", "kernel_end_to_end_lag_seconds", "kernel_redis_read_batch_size",
                     "kernel_plugin_host_deaths_total", "kernel_plugin_quarantines_total"] {
            #expect(parsed.types[name] != nil, "\(name)")
        }
        #expect(parsed.value("kernel_dlq_reason_total", ["reason": "unauthenticated"]) == 0)
    }

    @Test func histogramBucketsAreTheSpecOnes() throws {
        let parsed = try PrometheusText(KernelMetrics().render())
        func bounds(_ name: String) -> [String] {
            parsed.samples.filter { $0.name == name + "_bucket" }.compactMap { $0.labels["le"] }
        }
        let sizes = bounds("kernel_pg_batch_size").compactMap(Double.init).filter { $0.isFinite }
        #expect(sizes == [1, 10, 50, 100, 200, 500, 1000, 2000, 5000])
        #expect(bounds("kernel_pg_batch_size").contains("+Inf"))
        let lag = bounds("kernel_redis_message_lag_seconds").compactMap(Double.init).filter { $0.isFinite }
        #expect(lag.first == 0.001 && lag.last == 120)
        let ack = bounds("kernel_redis_ack_latency_seconds").compactMap(Double.init).filter { $0.isFinite }
        #expect(ack.first == 0.001 && ack.last == 10)
        let persist = bounds("kernel_registration_persist_seconds").compactMap(Double.init).filter { $0.isFinite }
        #expect(persist.first == 0.001 && persist.last == 5)
        let pgSeconds = bounds("kernel_pg_batch_seconds").compactMap(Double.init).filter { $0.isFinite }
        #expect(pgSeconds == MetricBuckets.defaultSeconds)
    }

    @Test func accessorsMoveTheirSeries() throws {
        let metrics = KernelMetrics()
        metrics.redisReadTotal.increment(by: 41)
        metrics.redisReadTotal.increment()
        metrics.redisReadTotal.increment(by: -5)   // ignored: counters never go down
        metrics.pgBatchSize.observe(120)
        metrics.pgCircuitState.set(2)
        metrics.rateLimitDeny(op: "token").increment(by: 3)
        metrics.normalize(family: "trade", outcome: "ok").increment(by: 7)
        metrics.normalizeSeconds(family: "trade").observe(0.00002)
        metrics.registrationOutcome(stage: "register", action: "register", outcome: "pending").increment()
        let parsed = try PrometheusText(metrics.render())
        #expect(parsed.value("kernel_redis_read_total") == 42)
        #expect(parsed.value("kernel_pg_batch_size_count") == 1)
        #expect(parsed.value("kernel_pg_batch_size_sum") == 120)
        #expect(parsed.value("kernel_pg_batch_size_bucket", ["le": "200.0"]) == 1 || parsed.value("kernel_pg_batch_size_bucket", ["le": "200"]) == 1)
        #expect(parsed.value("kernel_pg_circuit_state") == 2)
        #expect(parsed.value("kernel_rate_limit_deny_total", ["op": "token"]) == 3)
        #expect(parsed.value("kernel_normalize_total", ["family": "trade", "outcome": "ok"]) == 7)
        #expect(parsed.value("kernel_normalize_seconds_count", ["family": "trade"]) == 1)
        #expect(parsed.value("kernel_registration_outcome_total", ["stage": "register", "action": "register", "outcome": "pending"]) == 1)
    }

    @Test func eachFamilysNormalizeSecondsIsOneSeriesAcrossCalls() throws {
        // The handle is kept per family after the first call; later calls must reach the same series.
        let metrics = KernelMetrics()
        for _ in 0..<3 { metrics.normalizeSeconds(family: "trade").observe(0.00002) }
        metrics.normalizeSeconds(family: "quote").observe(0.00004)
        let parsed = try PrometheusText(metrics.render())
        #expect(parsed.value("kernel_normalize_seconds_count", ["family": "trade"]) == 3)
        #expect(parsed.value("kernel_normalize_seconds_count", ["family": "quote"]) == 1)
        #expect(parsed.value("kernel_normalize_seconds_sum", ["family": "quote"]) == 0.00004)
    }

    @Test func advanceSyncsExternalTotals() throws {
        let metrics = KernelMetrics()
        metrics.redisAckTotal.advance(toTotal: 10)
        metrics.redisAckTotal.advance(toTotal: 25)
        metrics.redisAckTotal.advance(toTotal: 25)
        metrics.redisAckTotal.advance(toTotal: 3)    // a restarted source: nothing added
        metrics.redisAckTotal.advance(toTotal: 5)    // counts again from the new base
        metrics.dlqReason("bad_event_json").advance(toTotal: 4)
        metrics.dlqReason("bad_event_json").advance(toTotal: 6)   // a fresh handle, same series
        metrics.dlqReason("unauthenticated").advance(toTotal: 1)
        metrics.spillDamagedRecords(cause: "spill_truncated").advance(toTotal: 3)
        let parsed = try PrometheusText(metrics.render())
        #expect(parsed.value("kernel_redis_ack_total") == 27)
        #expect(parsed.value("kernel_dlq_reason_total", ["reason": "bad_event_json"]) == 6)
        #expect(parsed.value("kernel_dlq_reason_total", ["reason": "unauthenticated"]) == 1)
        #expect(parsed.value("kernel_spill_damaged_records_total", ["cause": "spill_truncated"]) == 3)
        #expect(parsed.value("kernel_spill_damaged_records_total", ["cause": "spill_bad_header"]) == 0, "pre-created at zero")
    }

    @Test func renderIsSortedAndEachFamilyTypedOnce() throws {
        let text = KernelMetrics().render()
        let typeLines = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
        #expect(typeLines == typeLines.sorted())
        #expect(Set(typeLines).count == typeLines.count)
        #expect(typeLines.count == KernelMetrics.families.count + ProcessMetrics.families.count)
    }

    @Test func parserRefusesMalformedExposition() {
        for bad in ["kernel_x 1", "# TYPE kernel_x counter\nkernel_x{a=\"1} 1", "# TYPE kernel_x counter\nkernel_x one",
                    "# TYPE 9x counter", "# TYPE kernel_x counter\n# TYPE kernel_x counter"] {
            #expect(throws: PrometheusText.ParseError.self) { try PrometheusText(bad) }
        }
    }
}
