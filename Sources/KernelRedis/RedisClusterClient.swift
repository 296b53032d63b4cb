#if canImport(Glibc)
import Glibc
#endif

/// A Redis Cluster client over blocking hiredis connections (one per node, opened on first use).
///
/// Each command goes to the master of its key's slot (`ClusterRoute`). The client follows
/// `-MOVED` (updates the slot, refreshes the whole map before the next command) and `-ASK`
/// (`ASKING` and the command, pipelined, once), and waits out `-TRYAGAIN`/`-CLUSTERDOWN` with a
/// doubling back-off for at most `retryBudgetMs`, after which the error reply is returned.
///
/// A lost connection is never retried here: the command may have run (an XREADGROUP delivered
/// entries, an XADD appended), so the error is thrown and the caller does what it does for a
/// single server (reconnect, re-read its pending entries). The node's connection is dropped and
/// the map marked stale, so the next command reloads it and works once the cluster has failed over.
///
/// Not thread-safe: one client per dedicated thread, like `RedisConnection`.
public final class RedisClusterClient: RedisClient {
    typealias Endpoint = RedisConnection.Endpoint

    /// Redirections followed for one command before its MOVED/ASK reply is handed back.
    static let maxRedirects = 16
    /// Total time spent backing off on TRYAGAIN/CLUSTERDOWN for one command.
    static let retryBudgetMs = 5000
    static let firstBackoffMs = 50
    static let maxBackoffMs = 1000

    let settings: RedisSettings
    private var map = ClusterSlotMap()
    private var mapStale = true
    private var connections: [Endpoint: RedisConnection] = [:]
    private var timeoutMs: Int
    private var closed = false

    /// What the client has followed so far (for tests and diagnostics).
    struct Counters { var moved = 0; var asks = 0; var retries = 0; var refreshes = 0 }
    private(set) var counters = Counters()

    /// Connects to the seed (`settings.endpoint`) and loads the slot map. Every node connection
    /// authenticates with `settings.username`/`password`. A cluster has only database 0.
    public init(settings: RedisSettings) throws(RedisError) {
        self.settings = settings
        self.timeoutMs = settings.commandTimeoutMs
        guard settings.db == 0 else {
            throw RedisError(kind: .connect, message: "redis.db must be 0 with redis.cluster (a cluster has one database)")
        }
        do { try refreshMap() } catch {
            close()
            throw RedisError(kind: .connect, message: "cluster seed \(settings.endpoint.host):\(settings.endpoint.port): \(error.message)")
        }
    }

    deinit { close() }

    public var isOpen: Bool { !closed }

    public func close() {
        for c in connections.values { c.close() }
        connections.removeAll()
        closed = true
    }

    /// Applies to every node connection, open now or opened later.
    public func setTimeout(ms: Int) {
        timeoutMs = ms
        for c in connections.values { c.setTimeout(ms: ms) }
    }

    @discardableResult
    public func command(_ args: [[UInt8]]) throws(RedisError) -> RedisReply {
        guard !closed else { throw RedisError(kind: .io, message: "cluster client closed") }
        let route = try ClusterRoute.of(args)
        if mapStale { try refreshMap() }
        return try execute(args, route: route, firstReply: nil, askedNode: nil)
    }

    /// Splits the commands into consecutive runs for one node, pipelines each run on its node,
    /// strictly in order, and returns the replies in the original order. A command in a run that
    /// is answered with a redirection is retried on its own before the next run starts.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        guard !closed else { throw RedisError(kind: .io, message: "cluster client closed") }
        var routes: [ClusterRoute] = []
        routes.reserveCapacity(commands.count)
        for args in commands { routes.append(try ClusterRoute.of(args)) }  // refuse before sending anything
        if mapStale { try refreshMap() }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        var start = 0
        while start < commands.count {
            let node = try target(for: routes[start])
            var end = start + 1
            while end < commands.count, try target(for: routes[end]) == node { end += 1 }
            let run = Array(commands[start..<end])
            let runReplies = try send(run, to: node)
            for (offset, reply) in runReplies.enumerated() {
                let i = start + offset
                if case .error(let message) = reply, (try? ClusterRedirect.parse(message, askedHost: node.host)) != nil {
                    replies.append(try execute(commands[i], route: routes[i], firstReply: reply, askedNode: node))
                } else {
                    replies.append(reply)
                }
            }
            start = end
        }
        return replies
    }

    // MARK: - One command, following redirections

    /// Runs `args` (or, when `firstReply` is given, continues from that reply received from
    /// `askedNode`) until a reply that is not a redirection, or the bounds are hit.
    private func execute(_ args: [[UInt8]], route: ClusterRoute, firstReply: RedisReply?, askedNode: Endpoint?) throws(RedisError) -> RedisReply {
        var node: Endpoint
        if let askedNode { node = askedNode } else { node = try target(for: route) }
        var pending = firstReply
        var asking = false
        var redirects = 0
        var backoffMs = Self.firstBackoffMs
        var waitedMs = 0
        while true {
            let reply: RedisReply
            if let pending { reply = pending } else if asking {
                reply = try send([["ASKING"].map { Array($0.utf8) }, args], to: node)[1]
            } else {
                reply = try send([args], to: node)[0]
            }
            pending = nil
            asking = false
            guard case .error(let message) = reply else { return reply }
            let redirect: ClusterRedirect?
            do { redirect = try ClusterRedirect.parse(message, askedHost: node.host) } catch {
                mapStale = true
                throw error
            }
            switch redirect {
            case nil:
                return reply
            case .moved(let slot, let to)?:
                redirects += 1
                guard redirects <= Self.maxRedirects else { return reply }
                counters.moved += 1
                map.assign(slot, to: to)
                mapStale = true  // one slot moved often means more did: reload before the next command
                node = to
            case .ask(_, let to)?:
                redirects += 1
                guard redirects <= Self.maxRedirects else { return reply }
                counters.asks += 1
                node = to
                asking = true
            case .tryAgain?, .clusterDown?:
                guard waitedMs + backoffMs <= Self.retryBudgetMs else { return reply }
                counters.retries += 1
                usleep(useconds_t(backoffMs * 1000))
                waitedMs += backoffMs
                backoffMs = min(backoffMs * 2, Self.maxBackoffMs)
                if redirect == .clusterDown { try? refreshMap() }
                node = try target(for: route)
            }
        }
    }

    // MARK: - Nodes and the slot map

    /// The master of the route's slot; any node we know (an open connection first) otherwise.
    private func target(for route: ClusterRoute) throws(RedisError) -> Endpoint {
        if case .slot(let slot) = route, let owner = map.owner(of: slot) { return owner }
        if let open = map.masters.first(where: { connections[$0] != nil }) { return open }
        return map.masters.first ?? settings.endpoint
    }

    /// Sends commands to one node in one round trip. An I/O failure drops that node's
    /// connection, marks the map stale and is thrown: the commands may have run.
    private func send(_ commands: [[[UInt8]]], to node: Endpoint) throws(RedisError) -> [RedisReply] {
        let connection = try connection(to: node)
        do {
            return commands.count == 1 ? [try connection.command(commands[0])] : try connection.pipeline(commands)
        } catch {
            drop(node)
            throw RedisError(kind: error.kind, message: "\(node.host):\(node.port): \(error.message)")
        }
    }

    private func connection(to node: Endpoint) throws(RedisError) -> RedisConnection {
        if let c = connections[node], c.isOpen { return c }
        do {
            let c = try RedisConnection(endpoint: node, timeoutMs: settings.dialTimeoutMs,
                                        username: settings.username, password: settings.password, tls: settings.tls)
            c.setTimeout(ms: timeoutMs)
            connections[node] = c
            return c
        } catch {
            drop(node)
            throw error
        }
    }

    private func drop(_ node: Endpoint) {
        connections.removeValue(forKey: node)?.close()
        mapStale = true
    }

    /// Reloads the slot map from the first node that answers: known masters, then the other
    /// known nodes, then the seed.
    private func refreshMap() throws(RedisError) {
        var candidates = map.nodes
        if !candidates.contains(settings.endpoint) { candidates.append(settings.endpoint) }
        var lastError = RedisError(kind: .connect, message: "no cluster node to ask")
        for node in candidates {
            do {
                let reply = try send([["CLUSTER", "SLOTS"].map { Array($0.utf8) }], to: node)[0]
                if case .error(let e) = reply {
                    lastError = RedisError(kind: .reply, message: "\(node.host):\(node.port): CLUSTER SLOTS: \(e)")
                    continue
                }
                let fresh = try ClusterSlotMap.parse(reply, askedHost: node.host)
                guard !fresh.masters.isEmpty else {
                    lastError = RedisError(kind: .protocolError, message: "\(node.host):\(node.port): CLUSTER SLOTS lists no slots")
                    continue
                }
                map = fresh
                counters.refreshes += 1
                // Connections to nodes that left the cluster are closed; others are kept.
                for gone in connections.keys where !fresh.nodes.contains(gone) && gone != settings.endpoint { drop(gone) }
                mapStale = false
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }
}
