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

    public init(_ config: KernelConfig) {
        endpoint = RedisConnection.Endpoint(host: config.redis.addr.host.isEmpty ? "127.0.0.1" : config.redis.addr.host,
                                            port: Int32(config.redis.addr.port))
        username = config.redis.username
        password = config.redis.password
        db = config.redis.db
        dialTimeoutMs = config.redis.dialTimeoutMs
        commandTimeoutMs = max(config.redis.readTimeoutMs, config.redis.writeTimeoutMs)
    }

    public func connect() throws(RedisError) -> RedisConnection {
        let c = try RedisConnection(endpoint: endpoint, timeoutMs: dialTimeoutMs, username: username, password: password, db: db)
        c.setTimeout(ms: commandTimeoutMs)
        return c
    }
}
