/// What the kernel needs from Redis: blocking commands and pipelines on one thread. Implemented by
/// `RedisConnection` (one server) and `RedisClusterClient` (a Redis Cluster: routes each command by
/// its key's hash slot and follows MOVED/ASK). Not thread-safe: one client per thread.
public protocol RedisClient: AnyObject {
    var isOpen: Bool { get }
    func close()
    /// Socket timeout for following commands (a BLOCK read needs one longer than its block).
    func setTimeout(ms: Int)
    /// Runs one command. An error reply is returned as `.error`; I/O failures throw.
    @discardableResult
    func command(_ args: [[UInt8]]) throws(RedisError) -> RedisReply
    /// Runs several commands, replies in order. On a cluster, commands for different nodes run
    /// node by node in their original order (a later command never runs before an earlier one).
    func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply]
    /// Runs one command and decodes its reply in place (`RedisReplyView`, valid inside `decode`
    /// only). The default copies the reply first; `RedisConnection` hands out hiredis' own memory.
    func command<T>(_ args: [[UInt8]], decode: (RedisReplyView) -> T) throws(RedisError) -> T
}

extension RedisClient {
    public func command<T>(_ args: [[UInt8]], decode: (RedisReplyView) -> T) throws(RedisError) -> T {
        decode(RedisReplyView(try command(args)))
    }

    @discardableResult
    public func command(_ args: [String]) throws(RedisError) -> RedisReply {
        try command(args.map { Array($0.utf8) })
    }
}
