import KernelRedis

/// Writes a response to a per-request response stream (docs/protocol.md, "Streams and fields"): XADD then EXPIRE, pipelined in
/// one round trip. Every write refreshes the TTL, so a stream lives `ttlSeconds` after its last
/// response and abandoned ones disappear.
public struct ResponseWriter: Sendable {
    public init() {}

    /// XADDs `fields` (in order) to `stream` (the full key, prefix included) and sets its TTL.
    /// Returns false (after nothing else) when Redis refused or failed; the caller logs.
    @discardableResult
    public func respond(stream: String, fields: [(String, String)], ttlSeconds: Int, redis: any RedisClient) -> Bool {
        var xadd: [[UInt8]] = [Array("XADD".utf8), Array(stream.utf8), Array("*".utf8)]
        for (name, value) in fields {
            xadd.append(Array(name.utf8))
            xadd.append(Array(value.utf8))
        }
        let expire: [[UInt8]] = [Array("EXPIRE".utf8), Array(stream.utf8), Array(String(ttlSeconds <= 0 ? 300 : ttlSeconds).utf8)]
        do {
            let replies = try redis.pipeline([xadd, expire])
            for reply in replies { if case .error = reply { return false } }
            return true
        } catch {
            return false
        }
    }
}
