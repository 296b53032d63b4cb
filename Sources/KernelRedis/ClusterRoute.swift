/// Where a command goes in a Redis Cluster: the slot of its keys, or any node when it has none.
/// The one place that knows where each command the kernel sends keeps its keys.
enum ClusterRoute: Equatable {
    /// No key (PING, SCRIPT LOAD, INFO, CLUSTER …, EVAL with 0 keys): any node answers.
    case anyNode
    case slot(Int)

    /// Routes `args`. Throws (kind `.reply`, nothing sent) when a command's keys fall in different
    /// slots: the server would refuse it with CROSSSLOT anyway, and the caller must learn it was a
    /// key layout mistake, not a network failure.
    static func of(_ args: [[UInt8]]) throws(RedisError) -> ClusterRoute {
        let keys = keys(of: args)
        guard let first = keys.first else { return .anyNode }
        let slot = ClusterSlot.of(first)
        for key in keys.dropFirst() where ClusterSlot.of(key) != slot {
            let name = String(decoding: args[0], as: UTF8.self).uppercased()
            throw RedisError(kind: .reply, message:
                "CROSSSLOT \(name): keys in different hash slots (not sent; give them one {hash tag})")
        }
        return .slot(slot)
    }

    /// The keys of a command; empty when it has none.
    static func keys(of args: [[UInt8]]) -> [[UInt8]] {
        guard let head = args.first else { return [] }
        let name = String(decoding: head, as: UTF8.self).uppercased()
        if keyless.contains(name) { return [] }
        switch name {
        case "XREAD", "XREADGROUP":
            // … STREAMS k1 k2 … id1 id2 …: the keys are the first half after STREAMS.
            guard let s = args.firstIndex(where: { upper($0) == "STREAMS" }) else { return [] }
            let rest = Array(args[(s + 1)...])
            return Array(rest.prefix(rest.count / 2))
        case "XGROUP", "XINFO", "OBJECT", "MEMORY":
            // XGROUP CREATE key …, XINFO STREAM key …; XGROUP HELP has no key.
            return args.count > 2 ? [args[2]] : []
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            // EVAL script numkeys k1 … a1 …
            guard args.count > 2, let n = Int(String(decoding: args[2], as: UTF8.self)), n > 0 else { return [] }
            return Array(args.dropFirst(3).prefix(n))
        case "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH":
            return Array(args.dropFirst())
        case "MSET", "MSETNX":
            return stride(from: 1, to: args.count, by: 2).map { args[$0] }
        default:
            return args.count > 1 ? [args[1]] : []
        }
    }

    /// Commands with no key at all, sent to any node.
    static let keyless: Set<String> = [
        "PING", "ECHO", "SCRIPT", "FUNCTION", "INFO", "CLUSTER", "CLIENT", "COMMAND", "CONFIG", "DBSIZE",
        "TIME", "HELLO", "AUTH", "SELECT", "READONLY", "READWRITE", "ASKING", "FLUSHALL", "FLUSHDB",
        "KEYS", "SCAN", "RANDOMKEY", "WAIT", "LASTSAVE", "ROLE", "SLOWLOG", "LATENCY", "MEMORY DOCTOR",
        "PUBLISH", "QUIT", "RESET",
    ]

    private static func upper(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).uppercased()
    }
}
