/// Which shard of the event stream a subject's events go to (`redis.shards`, docs/producers.md,
/// "Sharded streams and Redis Cluster").
///
/// The rule, the same in every producer language: the subject id's 16 bytes read as one 128-bit
/// big-endian unsigned integer, modulo the number of shards. All events of one subject land in one
/// stream, so their order is kept; without 128-bit integers compute it byte by byte:
/// `r = 0; for b in bytes { r = (r * 256 + b) % shards }`.
public enum StreamShard {
    /// The shard of `subjectID`, in `0..<shards`. `shards` must be at least 1.
    public static func index(subjectID: EventUUID, shards: Int) -> Int {
        precondition(shards >= 1, "shards must be at least 1")
        let n = UInt64(shards)
        // (high · 2^64 + low) mod n in one 128-by-64 division; `high % n < n` keeps the quotient
        // within 64 bits, as dividingFullWidth requires.
        let (_, remainder) = n.dividingFullWidth((high: subjectID.high % n, low: subjectID.low))
        return Int(remainder)
    }

    /// The shard of the subject id in canonical text form; nil when the text is not a UUID.
    public static func index<S: StringProtocol>(subjectID text: S, shards: Int) -> Int? {
        guard let id = EventUUID(text) else { return nil }
        return index(subjectID: id, shards: shards)
    }

    /// The stream key of shard `shard`: `base` itself when there is one shard (the unsharded stream
    /// keeps its name), else `base:{shard}`. The braces are a Redis Cluster hash tag: only `shard`
    /// is hashed, so a shard's stream stays on one node whatever the prefix.
    public static func streamKey(base: String, shard: Int, shards: Int) -> String {
        precondition(shards >= 1 && (0..<shards).contains(shard), "shard \(shard) outside 0..<\(shards)")
        return shards == 1 ? base : base + ":{\(shard)}"
    }

    /// The stream key `subjectID`'s events are published to.
    public static func streamKey(base: String, subjectID: EventUUID, shards: Int) -> String {
        streamKey(base: base, shard: index(subjectID: subjectID, shards: shards), shards: shards)
    }
}
