import KernelConfig

/// How to open a Redis connection, taken from `redis.*`: shared by the ingest pipeline, the
/// control-stream consumers and the tools.
public struct RedisSettings: Sendable {
    public var endpoint: RedisConnection.Endpoint
    public var username: String?
    public var password: String?
    public var db: Int
    public var dialTimeoutMs: Int
    public var commandTimeoutMs: Int
    /// `redis.cluster`: `endpoint` is a seed node of a Redis Cluster.
    public var cluster: Bool
    /// `redis.tls`: TLS on every connection (cluster nodes included); nil = plain TCP.
    public var tls: KernelConfig.Redis.TLS?

    public init(_ config: KernelConfig) {
        endpoint = RedisConnection.Endpoint(host: config.redis.addr.host.isEmpty ? "127.0.0.1" : config.redis.addr.host,
                                            port: Int32(config.redis.addr.port))
        username = config.redis.username
        password = config.redis.password
        db = config.redis.db
        dialTimeoutMs = config.redis.dialTimeoutMs
        commandTimeoutMs = max(config.redis.readTimeoutMs, config.redis.writeTimeoutMs)
        cluster = config.redis.cluster
        tls = config.redis.tls
    }

    /// Settings given field by field (tools and tests that have no `KernelConfig`).
    public init(endpoint: RedisConnection.Endpoint, username: String? = nil, password: String? = nil, db: Int = 0,
                dialTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000, cluster: Bool = false,
                tls: KernelConfig.Redis.TLS? = nil) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.db = db
        self.dialTimeoutMs = dialTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        self.cluster = cluster
        self.tls = tls
    }

    /// A client for the configured deployment: one connection, or a cluster client when
    /// `redis.cluster` is set.
    public func connectClient() throws(RedisError) -> any RedisClient {
        if cluster { return try RedisClusterClient(settings: self) }
        return try connect()
    }

    /// One connection to `endpoint` (standalone Redis, or one node of a cluster).
    public func connect() throws(RedisError) -> RedisConnection {
        let c = try RedisConnection(endpoint: endpoint, timeoutMs: dialTimeoutMs, username: username, password: password, db: db,
                                    tls: tls)
        c.setTimeout(ms: commandTimeoutMs)
        return c
    }
}
