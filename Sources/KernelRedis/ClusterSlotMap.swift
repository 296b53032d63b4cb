/// Which master serves each of the 16384 slots, as read from `CLUSTER SLOTS`. Slots nobody
/// serves (a cluster that is down, a map being rebuilt) have no owner: commands for them go to
/// any node, which answers with MOVED or CLUSTERDOWN.
struct ClusterSlotMap {
    typealias Endpoint = RedisConnection.Endpoint

    private(set) var masters: [Endpoint] = []
    /// Every node named by the last `CLUSTER SLOTS` (masters first): where a refresh may ask.
    private(set) var nodes: [Endpoint] = []
    /// Index into `masters` per slot; -1 when unassigned.
    private var owners: [Int32] = Array(repeating: -1, count: ClusterSlot.count)

    init() {}

    func owner(of slot: Int) -> Endpoint? {
        guard (0..<ClusterSlot.count).contains(slot) else { return nil }
        let i = Int(owners[slot])
        return i >= 0 ? masters[i] : nil
    }

    /// After a MOVED: `slot` is served by `endpoint` now.
    mutating func assign(_ slot: Int, to endpoint: Endpoint) {
        guard (0..<ClusterSlot.count).contains(slot) else { return }
        owners[slot] = Int32(index(of: endpoint))
        if !nodes.contains(endpoint) { nodes.append(endpoint) }
    }

    private mutating func index(of endpoint: Endpoint) -> Int {
        if let i = masters.firstIndex(of: endpoint) { return i }
        masters.append(endpoint)
        return masters.count - 1
    }

    /// Parses a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id?, …], replica…], …]`.
    /// The reply comes from the network: wrong types, short arrays, slots outside 0…16383, a start
    /// after its end, overlapping ranges and bad ports are `.protocolError`, never a trap.
    /// An empty or null host means `askedHost` (Redis 7's "unknown endpoint").
    static func parse(_ reply: RedisReply, askedHost: String) throws(RedisError) -> ClusterSlotMap {
        guard case .array(let ranges) = reply else { throw malformed("reply is not an array") }
        var map = ClusterSlotMap()
        var replicas: [Endpoint] = []
        for range in ranges {
            guard case .array(let fields) = range, fields.count >= 3 else { throw malformed("range is not an array of 3+ items") }
            guard case .integer(let start) = fields[0], case .integer(let end) = fields[1] else {
                throw malformed("slot bounds are not integers")
            }
            guard (0..<Int64(ClusterSlot.count)).contains(start), (0..<Int64(ClusterSlot.count)).contains(end), start <= end else {
                throw malformed("slot range \(start)-\(end) outside 0-16383 or reversed")
            }
            let master = try node(fields[2], askedHost: askedHost)
            for extra in fields.dropFirst(3) { replicas.append(try node(extra, askedHost: askedHost)) }
            let i = Int32(map.index(of: master))
            for slot in Int(start)...Int(end) {
                guard map.owners[slot] < 0 else { throw malformed("slot \(slot) listed twice") }
                map.owners[slot] = i
            }
        }
        map.nodes = map.masters
        for r in replicas where !map.nodes.contains(r) { map.nodes.append(r) }
        return map
    }

    private static func node(_ reply: RedisReply, askedHost: String) throws(RedisError) -> Endpoint {
        guard case .array(let fields) = reply, fields.count >= 2 else { throw malformed("node is not an array of 2+ items") }
        var host: String
        switch fields[0] {
        case .string(let b): host = String(decoding: b, as: UTF8.self)
        case .status(let s): host = s
        case .null: host = ""
        default: throw malformed("node host is not a string")
        }
        if host.isEmpty { host = askedHost }
        guard case .integer(let port) = fields[1], (1...65535).contains(port) else { throw malformed("node port is not 1-65535") }
        guard !host.isEmpty, host.utf8.count <= 255, !host.utf8.contains(0) else { throw malformed("node host is unusable") }
        return Endpoint(host: host, port: Int32(port))
    }

    private static func malformed(_ why: String) -> RedisError {
        RedisError(kind: .protocolError, message: "malformed CLUSTER SLOTS reply: \(why)")
    }
}
