/// PLACEHOLDER (helper A replaces this file): a Redis Cluster client over hiredis connections.
public final class RedisClusterClient: RedisClient {
    let settings: RedisSettings
    public init(settings: RedisSettings) throws(RedisError) {
        self.settings = settings
        throw RedisError(kind: .connect, message: "redis.cluster is not implemented yet")
    }
    public var isOpen: Bool { false }
    public func close() {}
    public func setTimeout(ms: Int) {}
    public func command(_ args: [[UInt8]]) throws(RedisError) -> RedisReply { throw RedisError(kind: .io, message: "closed") }
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] { throw RedisError(kind: .io, message: "closed") }
}
