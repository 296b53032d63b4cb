import KernelRedis

/// The consumer group's progress as Redis reports it (XINFO GROUPS, XPENDING summary), on the
/// bench's own connection.
struct GroupState {
    /// Entries the group has read (`entries-read`, Redis ≥ 7).
    var entriesRead: Int
    /// Entries not yet delivered to the group (`lag`); nil when Redis cannot tell.
    var lag: Int?
    /// Delivered but not acknowledged (the PEL).
    var pending: Int
    var lastDelivered: StreamID
    /// Oldest entry in the PEL; nil when it is empty.
    var oldestPending: StreamID?

    /// True once every entry up to `id` is acknowledged: delivered, and older than the whole PEL.
    func hasAcknowledged(_ id: StreamID) -> Bool {
        guard id <= lastDelivered else { return false }
        guard let oldest = oldestPending else { return true }
        return id < oldest
    }
}

final class GroupProbe {
    let redis: RedisConnection
    let stream: String
    let group: String
    private let commands: [[[UInt8]]]

    init(address: String, stream: String, group: String) throws {
        guard let endpoint = RedisConnection.Endpoint(address: address) else { throw BenchError("bad Redis address \(address)") }
        redis = try RedisConnection(endpoint: endpoint, timeoutMs: 10_000)
        self.stream = stream
        self.group = group
        // XINFO first: an entry it counts as delivered is, by the XPENDING reply, either still
        // pending or acknowledged — never missed.
        commands = [["XINFO", "GROUPS", stream].map { Array($0.utf8) }, ["XPENDING", stream, group].map { Array($0.utf8) }]
    }

    deinit { redis.close() }

    func state() throws -> GroupState {
        let replies = try redis.pipeline(commands)
        var state = GroupState(entriesRead: 0, lag: nil, pending: 0, lastDelivered: .zero, oldestPending: nil)
        var found = false
        for item in replies[0].array ?? [] {
            guard let fields = item.array else { continue }
            var map: [String: RedisReply] = [:]
            var i = 0
            while i + 1 < fields.count { map[fields[i].text ?? ""] = fields[i + 1]; i += 2 }
            guard map["name"]?.text == group else { continue }
            found = true
            state.entriesRead = Int(map["entries-read"]?.integer ?? 0)
            state.lag = map["lag"]?.integer.map(Int.init)
            state.lastDelivered = map["last-delivered-id"]?.text.flatMap(StreamID.init) ?? .zero
        }
        guard found else { throw BenchError("consumer group \(group) not found on \(stream)") }
        if let summary = replies[1].array, summary.count >= 2 {
            state.pending = Int(summary[0].integer ?? 0)
            state.oldestPending = summary[1].text.flatMap(StreamID.init)
        }
        return state
    }
}
