import KernelRedis

#if canImport(Glibc)
import Glibc
#endif

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
    /// True when the entry is suspected of crashing a plugin (it was in a batch call when a
    /// kernel died, see `CrashStrikes`): it is handed to its plugin in a call of its own.
    public var isolate = false
    /// When the kernel read the entry (Unix microseconds): the event's `received_at`, kept
    /// through spill and replay.
    public var readAtMicros: Int64 = 0

    public init(id: String, shard: Int?, payload: [UInt8]?, token: [UInt8]?, clientID: String?, deliveries: Int,
                mayBeRedelivery: Bool, deleted: Bool) {
        self.id = id
        self.shard = shard
        self.payload = payload
        self.token = token
        self.clientID = clientID
        self.deliveries = deliveries
        self.mayBeRedelivery = mayBeRedelivery
        self.deleted = deleted
    }

    /// The entry's name inside the kernel (in-flight set, batches, acks, spill records): the entry
    /// id, qualified with the shard when the stream is sharded (`EntryRef`), since ids repeat
    /// across shards.
    public var ref: String { EntryRef.make(shard: shard, id: id) }

    /// The id the DLQ reports: the producer's `id` field, else the entry reference (docs/protocol.md,
/// "Streams and fields"; on a
    /// sharded stream `<shard>/<entry id>`).
    public var dlqID: String { clientID.flatMap { $0.isEmpty ? nil : $0 } ?? ref }

    /// Milliseconds part of the entry id: when Redis accepted it (for lag metrics).
    public var redisMillis: Int64? {
        guard let dash = id.firstIndex(of: "-") else { return nil }
        return Int64(id[..<dash])
    }

    /// Parses an XREADGROUP / XAUTOCLAIM entry list, `[[id, [field, value, …] | nil], …]`, copying
    /// only what an entry keeps (payload, token, client id).
    static func parseList(_ list: RedisReplyView, shard: Int? = nil, deliveries: Int, mayBeRedelivery: Bool,
                          tokens: inout TokenInterner, readAtMicros: Int64 = unixNanos() / 1000) -> [StreamEntry] {
        let count = list.count
        var out: [StreamEntry] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let pair = list[i]
            guard pair.count >= 1 else { continue }
            let idView = pair[0]
            guard idView.kind == .string || idView.kind == .status else { continue }
            let id = idView.withBytes { String(decoding: $0, as: UTF8.self) }
            var entry = StreamEntry(id: id, shard: shard, payload: nil, token: nil, clientID: nil, deliveries: deliveries,
                                    mayBeRedelivery: mayBeRedelivery, deleted: true)
            entry.readAtMicros = readAtMicros
            let fields = pair[1]
            if pair.count >= 2, fields.kind == .array {
                entry.deleted = false
                var f = 0
                let n = fields.count
                while f + 1 < n {
                    let name = fields[f], value = fields[f + 1]
                    if name.kind == .string, value.kind == .string {
                        if name.equals("payload") {
                            entry.payload = value.bytes
                        } else if name.equals("token") {
                            entry.token = value.withBytes { tokens.intern($0) }
                        } else if name.equals("id") {
                            entry.clientID = value.withBytes { String(decoding: $0, as: UTF8.self) }
                        }
                    }
                    f += 2
                }
            }
            out.append(entry)
        }
        return out
    }
}

/// Hands out one shared buffer for a run of equal tokens: a producer sends the same token on every
/// entry, so this saves an allocation per event in the reader and lets the processor's "same token
/// as before" check succeed on buffer identity.
struct TokenInterner {
    private var last: [UInt8]?

    mutating func intern(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        if let last, last.count == bytes.count,
           last.isEmpty || last.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) {
            return last
        }
        let fresh = Array(bytes)
        last = fresh
        return fresh
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
        // On UTF-8 code units: `firstIndex(of: Character)` walked grapheme clusters. (Off the
        // hot path: the acknowledger parses references into `EntryKey`s.)
        guard let slash = ref.utf8.firstIndex(of: UInt8(ascii: "/")), let shard = Int(ref[..<slash]) else {
            return (nil, Substring(ref))
        }
        return (shard, ref[ref.utf8.index(after: slash)...])
    }
}
