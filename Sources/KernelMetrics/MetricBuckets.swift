/// Histogram bucket layouts (docs/admin.md, "Metrics").
public enum MetricBuckets {
    /// Prometheus' default buckets (`kernel_redis_batch_seconds`, `kernel_pg_batch_seconds`).
    public static let defaultSeconds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// `kernel_pg_batch_size`.
    public static let batchSize: [Double] = [1, 10, 50, 100, 200, 500, 1000, 2000, 5000]
    /// `kernel_redis_message_lag_seconds`: .001 … 120.
    public static let messageLag: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
    /// `kernel_redis_ack_latency_seconds`: .001 … 10.
    public static let ackLatency: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// `kernel_registration_persist_seconds`: .001 … 5.
    public static let persist: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    /// `kernel_normalize_seconds`: a plugin call takes microseconds; 1 µs … 100 ms.
    public static let normalize: [Double] = [0.000001, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                             0.001, 0.005, 0.01, 0.1]
}
