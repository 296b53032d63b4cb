import KernelRedis

/// One entry read from the event stream, before any check.
public struct StreamEntry: Sendable {
    /// Redis entry id ("1764081000000-0") within its stream.
    public var id: String
    /// The event-stream shard it was read from; nil when the stream is not sharded.
    public var shard: Int?
    /// The `payload` field; nil when absent (or the entry was deleted from the stream).
    public var payload: [UInt8]?
    /// The `token` field.
    public var token: [UInt8]?
    /// The optional `id` field, used only as the DLQ id.
    public var clientID: String?
    /// Times delivered, per the group's pending list (1 for a first read with `>`).
    public var deliveries: Int
    /// True when read from a pending list or claimed: it may have been processed before.
    public var mayBeRedelivery: Bool
    /// True when the entry's fields are gone (trimmed or deleted after delivery).
    public var deleted: Bool

    /// The entry's name inside the kernel (in-flight set, batches, acks, spill records): the entry
    /// id, qualified with the shard when the stream is sharded (`EntryRef`), since ids repeat
    /// across shards.
    public var ref: String { EntryRef.make(shard: shard, id: id) }

    /// The id the DLQ reports: the producer's `id` field, else the entry reference (SPEC §1; on a
    /// sharded stream `<shard>/<entry id>`).
    public var dlqID: String { clientID.flatMap { $0.isEmpty ? nil : $0 } ?? ref }

    /// Milliseconds part of the entry id: when Redis accepted it (for lag metrics).
    public var redisMillis: Int64? {
        guard let dash = id.firstIndex(of: "-") else { return nil }
        return Int64(id[..<dash])
    }

    /// Parses an XREADGROUP / XAUTOCLAIM entry list: `[[id, [field, value, …] | nil], …]`.
    static func parseList(_ reply: RedisReply, shard: Int? = nil, deliveries: Int, mayBeRedelivery: Bool) -> [StreamEntry] {
        guard let items = reply.array else { return [] }
        var out: [StreamEntry] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let pair = item.array, pair.count >= 1, let id = pair[0].text else { continue }
            var entry = StreamEntry(id: id, shard: shard, payload: nil, token: nil, clientID: nil, deliveries: deliveries,
                                    mayBeRedelivery: mayBeRedelivery, deleted: true)
            if pair.count >= 2, let fields = pair[1].array {
                entry.deleted = false
                var i = 0
                while i + 1 < fields.count {
                    if case .string(let name) = fields[i], case .string(let value) = fields[i + 1] {
                        switch name {
                        case Array("payload".utf8): entry.payload = value
                        case Array("token".utf8): entry.token = value
                        case Array("id".utf8): entry.clientID = String(decoding: value, as: UTF8.self)
                        default: break
                        }
                    }
                    i += 2
                }
            }
            out.append(entry)
        }
        return out
    }
}

/// How an entry is named inside the kernel: `<entry id>` on a single stream, `<shard>/<entry id>`
/// on a sharded one. Redis entry ids never contain `/`.
public enum EntryRef {
    public static func make(shard: Int?, id: String) -> String {
        guard let shard else { return id }
        return "\(shard)/\(id)"
    }

    /// The shard (nil when unqualified) and the Redis entry id of a reference.
    public static func split(_ ref: String) -> (shard: Int?, id: Substring) {
        guard let slash = ref.firstIndex(of: "/"), let shard = Int(ref[..<slash]) else { return (nil, Substring(ref)) }
        return (shard, ref[ref.index(after: slash)...])
    }
}
