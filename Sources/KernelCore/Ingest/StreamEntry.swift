import KernelRedis

/// One entry read from the event stream, before any check.
public struct StreamEntry: Sendable {
    /// Redis entry id ("1764081000000-0").
    public var id: String
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

    /// The id the DLQ reports: the producer's `id` field, else the entry id (SPEC §1).
    public var dlqID: String { clientID.flatMap { $0.isEmpty ? nil : $0 } ?? id }

    /// Milliseconds part of the entry id: when Redis accepted it (for lag metrics).
    public var redisMillis: Int64? {
        guard let dash = id.firstIndex(of: "-") else { return nil }
        return Int64(id[..<dash])
    }

    /// Parses an XREADGROUP / XAUTOCLAIM entry list: `[[id, [field, value, …] | nil], …]`.
    static func parseList(_ reply: RedisReply, deliveries: Int, mayBeRedelivery: Bool) -> [StreamEntry] {
        guard let items = reply.array else { return [] }
        var out: [StreamEntry] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let pair = item.array, pair.count >= 1, let id = pair[0].text else { continue }
            var entry = StreamEntry(id: id, payload: nil, token: nil, clientID: nil, deliveries: deliveries,
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
