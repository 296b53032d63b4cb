import KernelRedis

/// What to do when Redis cannot tell whether a nonce was seen (docs/onboarding.md, "Rate limits and anti-replay": producer flows allow,
/// the admin API denies).
public enum NonceErrorPolicy: Sendable {
    case allow
    case deny
}

/// The outcome of claiming a nonce.
public enum NonceClaim: Sendable, Equatable {
    /// First use (or Redis failed under `.allow`).
    case fresh
    /// Seen before within the TTL (or Redis failed under `.deny`).
    case replay
}

/// Anti-replay by `SET key 1 NX EX ttl` (docs/onboarding.md, "Rate limits and anti-replay"). The caller builds the full key, e.g.
/// `P+"reg:nonce:"+fp+":"+nonce` or `P+"nonce:token:"+producer_id+":"+nonce`.
public struct NonceGuard: Sendable {
    public init() {}

    /// Claims `key` for `ttlSeconds`; `onError` decides when Redis fails. `failure`, when given,
    /// receives the Redis error text (for a log line).
    public func claim(key: String, ttlSeconds: Int, onRedisError: NonceErrorPolicy, redis: any RedisClient,
                      failure: ((String) -> Void)? = nil) -> NonceClaim {
        do {
            let reply = try redis.command(["SET", key, "1", "NX", "EX", String(max(1, ttlSeconds))])
            switch reply {
            case .status("OK"): return .fresh
            case .null: return .replay
            default:
                failure?("unexpected reply to SET NX: \(reply)")
                return onRedisError == .allow ? .fresh : .replay
            }
        } catch {
            failure?(error.description)
            return onRedisError == .allow ? .fresh : .replay
        }
    }
}
