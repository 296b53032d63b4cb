import KernelRedis

/// The Redis side of the protocol: every request is one `XADD` to a `P`-prefixed stream and every
/// answer one entry of a response stream (docs/onboarding.md, "Reading responses"). Event
/// publishing uses the same channel.
final class ControlChannel {
    /// One stream entry: its id and its fields (all values are strings).
    struct Entry {
        let id: String
        let fields: [String: String]
        subscript(name: String) -> String? { fields[name] }
    }

    /// One server, or a Redis Cluster client that routes each command by its key's slot; the
    /// control streams and the event streams go through the same client.
    let redis: any RedisClient
    /// `redis.key_prefix` of the kernel, e.g. `fdc:`.
    let prefix: String

    init(address: String, prefix: String, cluster: Bool) throws(ProducerError) {
        redis = try ProducerRedis.connect(address: address, cluster: cluster)
        self.prefix = prefix
    }

    func key(_ suffix: String) -> String { prefix + suffix }

    /// Runs one command; an error reply becomes a thrown error.
    @discardableResult
    func run(_ args: [String]) throws(ProducerError) -> RedisReply {
        let reply: RedisReply
        do {
            reply = try redis.command(args)
        } catch {
            throw ProducerError(.redis, "\(args.first ?? "") failed: \(error)")
        }
        if case .error(let message) = reply { throw ProducerError(.redis, "\(args.first ?? ""): \(message)") }
        return reply
    }

    /// `XADD stream * fields…`; returns the entry id.
    @discardableResult
    func add(_ stream: String, _ fields: [String]) throws(ProducerError) -> String {
        try run(["XADD", stream, "*"] + fields).text ?? ""
    }

    /// The id of the newest entry of a shared response stream, `0-0` if it is empty. Read it
    /// *before* sending a request: an `XREAD … $` issued afterwards can miss a fast answer.
    func lastID(_ stream: String) throws(ProducerError) -> String {
        let reply = try run(["XREVRANGE", stream, "+", "-", "COUNT", "1"])
        return reply.array?.first.flatMap(Self.entry)?.id ?? "0-0"
    }

    /// Entries of `stream` after `id`, waiting up to `blockMs` for the first one.
    func read(_ stream: String, after id: String, blockMs: Int) throws(ProducerError) -> [Entry] {
        let args = ["XREAD", "COUNT", "10", "BLOCK", String(blockMs), "STREAMS", stream, id]
        let reply: RedisReply
        do {
            reply = try redis.command(args)
        } catch {
            throw ProducerError(.redis, "XREAD failed: \(error)")
        }
        if case .error(let message) = reply {
            // A Redis Cluster failover or slot move wakes a blocked read with UNBLOCKED: nothing
            // arrived yet, the caller reads again (and the cluster client follows the move).
            if message.hasPrefix("UNBLOCKED") { return [] }
            throw ProducerError(.redis, "XREAD: \(message)")
        }
        // [[stream, [[id, [field, value, …]], …]]], or null on timeout.
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2,
              let items = first[1].array else { return [] }
        return items.compactMap(Self.entry)
    }

    private static func entry(_ item: RedisReply) -> Entry? {
        guard let pair = item.array, pair.count == 2, let id = pair[0].text, let flat = pair[1].array else { return nil }
        var fields: [String: String] = [:]
        var i = 0
        while i + 1 < flat.count {
            fields[flat[i].text ?? ""] = flat[i + 1].text ?? ""
            i += 2
        }
        return Entry(id: id, fields: fields)
    }
}
