import KernelPlugins
import KernelRedis
import Logging

/// Strikes against entries whose plugin call was running when a kernel died, kept in Redis beside
/// each event stream (`<stream>:strikes`, a hash: entry id → strikes, `d:<entry id>` → what
/// happened), so every kernel of the group sees them: the one restarting, and a peer that claims
/// the dead kernel's entries (docs/plugins.md, "When a plugin crashes or hangs").
///
/// A field present with 0 strikes marks a suspect: the entry was one of several handed to a
/// plugin in one `normalize_batch` call when the process died. Suspects are normalized one call
/// each from then on, so a second crash names the culprit alone.
public enum CrashStrikes {
    /// The strikes hash of one event stream.
    public static func key(stream: String) -> String { stream + ":strikes" }

    /// How long a strikes hash outlives its last change (entries are settled long before).
    static let ttlSeconds = 7 * 24 * 3600

    /// What one entry has against it.
    public struct Record: Sendable, Equatable {
        public var strikes: Int
        public var detail: String
    }

    /// Charges what the previous process's breadcrumb names: a strike to the entry of each single
    /// call in progress, suspicion to every entry of a batch call. `stream(shard)` names the
    /// stream of an entry reference's shard. Returns one line per call, for the log.
    public static func charge(_ crash: CrashRecord, redis: any RedisClient,
                              stream: (Int?) -> String) throws(RedisError) -> [String] {
        var lines: [String] = []
        for call in crash.calls {
            let what = "plugin \(call.plugin) \(call.version) (family \(call.family)): \(call.cause)"
            var touched: Set<String> = []
            for ref in call.refs {
                let (shard, id) = EntryRef.split(ref)
                let key = key(stream: stream(shard))
                touched.insert(key)
                if call.singleCall {
                    _ = try check(redis.command(["HINCRBY", key, String(id), "1"]))
                    _ = try check(redis.command(["HSET", key, "d:" + id, what]))
                } else {
                    _ = try check(redis.command(["HSETNX", key, String(id), "0"]))
                }
            }
            for key in touched { _ = try check(redis.command(["EXPIRE", key, String(ttlSeconds)])) }
            lines.append(call.singleCall
                ? "\(what); strike charged to entry \(call.refs.first ?? "?")"
                : "\(what) in a batch call of \(call.refs.count) entries; each is retried alone")
        }
        return lines
    }

    /// The records of `ids` (entries of one stream); ids without one are absent.
    public static func lookup(_ ids: [String], stream: String, redis: any RedisClient) throws(RedisError) -> [String: Record] {
        guard !ids.isEmpty else { return [:] }
        let reply = try check(redis.command(["HMGET", key(stream: stream)] + ids + ids.map { "d:" + $0 }))
        guard let values = reply.array, values.count == 2 * ids.count else { return [:] }
        var found: [String: Record] = [:]
        for (i, id) in ids.enumerated() {
            guard let text = values[i].text, let strikes = Int(text) else { continue }
            found[id] = Record(strikes: strikes, detail: values[ids.count + i].text ?? "")
        }
        return found
    }

    /// Forgets settled entries (stored or dead-lettered).
    public static func forget(_ ids: [String], stream: String, redis: any RedisClient) throws(RedisError) {
        guard !ids.isEmpty else { return }
        _ = try check(redis.command(["HDEL", key(stream: stream)] + ids + ids.map { "d:" + $0 }))
    }

    private static func check(_ reply: RedisReply) throws(RedisError) -> RedisReply {
        if case .error(let message) = reply { throw RedisError(kind: .reply, message: message) }
        return reply
    }
}
