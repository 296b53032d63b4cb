import KernelConfig
import KernelRedis

/// What every pipeline Redis connection needs, taken from `redis.*`.
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

/// Exponential backoff with a cap, for reconnect loops.
struct Backoff {
    let baseMs: Int
    let maxMs: Int
    private(set) var attempt = 0

    init(baseMs: Int = 200, maxMs: Int = 5000) { self.baseMs = baseMs; self.maxMs = maxMs }

    mutating func nextDelayMs() -> Int {
        defer { attempt += 1 }
        let exp = min(attempt, 16)
        let d = min(maxMs, baseMs << exp)
        // ×U[0.75, 1.25] jitter so several kernels do not reconnect in lockstep.
        return Int(Double(d) * Double.random(in: 0.75...1.25))
    }

    mutating func reset() { attempt = 0 }
}
