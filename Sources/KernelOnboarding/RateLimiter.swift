import KernelRedis
import KernelCrypto

/// The limiter's verdict. `error` (Redis unreachable or the script failed) is treated as denied:
/// the limiter fails closed (docs/onboarding.md, "Rate limits and anti-replay").
public enum RateDecision: Sendable, Equatable {
    case allowed
    case denied
    case error(String)

    /// True only for `.allowed`.
    public var isAllowed: Bool { self == .allowed }
}

/// A distributed token bucket evaluated atomically in Redis (docs/onboarding.md, "Rate limits and anti-replay").
///
/// Key `P+"rl:"+op+":"+identity`, a hash `{tokens, ts}` that expires 120 s after its last use.
/// Capacity = `burst`; refill = `rpm`/60 tokens per second; the clock is Redis `TIME` in whole
/// seconds (one clock for every kernel sharing the Redis); a new or expired bucket starts full;
/// each request costs one token and is allowed iff at least one is left.
/// Pinned: rpm 1, burst 1 → the first request is allowed, an immediate second one denied.
public struct RateLimiter: Sendable {
    /// The bucket script. KEYS[1] = bucket; ARGV[1] = capacity; ARGV[2] = refill per minute.
    static let script = """
        local key = KEYS[1]
        local capacity = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2]) / 60
        local now = tonumber(redis.call('TIME')[1])
        local state = redis.call('HMGET', key, 'tokens', 'ts')
        local tokens = tonumber(state[1])
        local ts = tonumber(state[2])
        if tokens == nil or ts == nil then
          tokens = capacity
          ts = now
        end
        local elapsed = now - ts
        if elapsed < 0 then elapsed = 0 end
        tokens = math.min(capacity, tokens + elapsed * rate)
        local allowed = 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        end
        redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
        redis.call('EXPIRE', key, 120)
        return allowed
        """
    /// The script's SHA-1, the name EVALSHA uses.
    static let scriptSHA = Hex.lowercase(Digest.sha1.hash(Array(script.utf8)))

    /// `redis.key_prefix`.
    public let keyPrefix: String
    /// Requests per minute refilled.
    public let rpm: Int
    /// Bucket capacity.
    public let burst: Int

    public init(keyPrefix: String, rpm: Int, burst: Int) {
        self.keyPrefix = keyPrefix
        self.rpm = max(0, rpm)
        self.burst = max(0, burst)
    }

    public init(settings: OnboardingSettings) {
        self.init(keyPrefix: settings.keyPrefix, rpm: settings.rateLimitRPM, burst: settings.rateLimitBurst)
    }

    /// The bucket key for `op` (`reg`, `subject`, `token`, `schema`) and `identity`.
    public func key(op: String, identity: String) -> String {
        keyPrefix + "rl:" + op + ":" + identity
    }

    /// Takes one token from the bucket of (`op`, `identity`). EVALSHA first; on NOSCRIPT (a
    /// restarted or flushed Redis) EVAL, which also caches the script.
    public func allow(op: String, identity: String, redis: any RedisClient) -> RateDecision {
        let args = [key(op: op, identity: identity), String(burst), String(rpm)]
        do {
            var reply = try redis.command(["EVALSHA", Self.scriptSHA, "1"] + args)
            if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
                reply = try redis.command(["EVAL", Self.script, "1"] + args)
            }
            switch reply {
            case .integer(1): return .allowed
            case .integer(0): return .denied
            case .error(let message): return .error(message)
            default: return .error("unexpected reply \(reply)")
            }
        } catch {
            return .error(error.description)
        }
    }
}
