import KernelRedis

/// Opens the producer's Redis client: one connection to `address`, or with `--cluster` a Redis
/// Cluster client that takes `address` as a seed node, discovers the masters and follows MOVED/ASK
/// redirections, exactly as the kernel does with `redis.cluster: true`.
enum ProducerRedis {
    /// Longer than any BLOCK the producer issues (1 s), so a blocking read is not cut short by the
    /// socket timeout.
    static let timeoutMs = 10_000

    static func connect(address: String, cluster: Bool) throws(ProducerError) -> any RedisClient {
        guard let endpoint = RedisConnection.Endpoint(address: address) else {
            throw ProducerError(.redis, "bad Redis address \(address) (want host:port)")
        }
        let settings = RedisSettings(endpoint: endpoint, dialTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs, cluster: cluster)
        do {
            return try settings.connectClient()
        } catch {
            throw ProducerError(.redis, "cannot connect to \(address)\(cluster ? " (cluster seed)" : ""): \(error)")
        }
    }
}
