import Foundation
import KernelRedis

#if canImport(Glibc)
import Glibc
#endif

/// The local Redis Cluster of `.ci/redis-cluster` (six nodes: three masters with slots, three
/// replicas), for the cluster suites of KernelRedisTests and IngestTests: finding it (starting it
/// when nothing answers) and reading its topology. Every call blocks: run them on a test thread,
/// never on the Swift pool.
public enum LocalRedisCluster {
    public typealias Endpoint = RedisConnection.Endpoint

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// One line of CLUSTER NODES.
    public struct Node: Equatable, Sendable {
        public var id: String
        public var endpoint: Endpoint
        public var isMaster: Bool
        public var masterID: String?
        /// Owned slot ranges (importing/migrating markers left out).
        public var slots: [ClosedRange<Int>]
        public var failed: Bool
        public func owns(_ slot: Int) -> Bool { slots.contains { $0.contains(slot) } }
    }

    /// A seed node: KERNEL_REDIS_CLUSTER_ADDR or `.run/cluster-env`, else `.ci/redis-cluster up`.
    public static func seed() throws(Failure) -> Endpoint {
        if let found = configured(), answers(found) { return found }
        // posix_spawn + waitpid rather than Foundation's Process, whose exit monitoring hung here
        // (the script's child left unreaped) when called off the main thread.
        let script = Repository.root.path + "/.ci/redis-cluster"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(script), strdup("up"), nil]
        defer { for a in argv { free(a) } }
        let spawned = posix_spawn(&pid, script, nil, nil, argv, environ)
        guard spawned == 0 else { throw Failure("cannot run \(script): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw Failure(".ci/redis-cluster up failed (wait status \(status))") }
        guard let found = configured(), answers(found) else { throw Failure(".ci/redis-cluster up ran but no cluster answers") }
        return found
    }

    /// A plain connection to one node, bypassing all routing.
    public static func admin(_ endpoint: Endpoint) throws -> RedisConnection {
        try RedisConnection(endpoint: endpoint, timeoutMs: 5000)
    }

    /// CLUSTER NODES as `endpoint` sees it.
    public static func nodes(asking endpoint: Endpoint) throws -> [Node] {
        let c = try admin(endpoint)
        defer { c.close() }
        guard let text = try c.command(["CLUSTER", "NODES"]).text else { throw Failure("CLUSTER NODES failed") }
        return text.split(separator: "\n").compactMap { line -> Node? in
            let f = line.split(separator: " ").map(String.init)
            guard f.count >= 8, let ep = Endpoint(address: f[1].split(separator: "@").first.map(String.init) ?? f[1]) else { return nil }
            let flags = f[2].split(separator: ",")
            let slots: [ClosedRange<Int>] = f.dropFirst(8).compactMap { s in
                if s.hasPrefix("[") { return nil }  // an importing/migrating marker, not an owned range
                let parts = s.split(separator: "-").compactMap { Int($0) }
                if parts.count == 2 { return parts[0]...parts[1] }
                return parts.count == 1 ? parts[0]...parts[0] : nil
            }
            return Node(id: f[0], endpoint: ep, isMaster: flags.contains("master"), masterID: f[3] == "-" ? nil : f[3],
                        slots: slots, failed: flags.contains("fail") || flags.contains("fail?"))
        }
    }

    /// The master that owns `slot`, as `endpoint` sees it.
    public static func owner(ofSlot slot: Int, asking endpoint: Endpoint) throws -> Node {
        guard let n = try nodes(asking: endpoint).first(where: { $0.isMaster && $0.owns(slot) }) else {
            throw Failure("no master owns slot \(slot)")
        }
        return n
    }

    /// Six nodes, each a master with slots or a replica (a demoted master is briefly neither), and
    /// every node says cluster_state:ok with all slots served.
    public static func healthy(asking endpoint: Endpoint) -> Bool {
        guard let all = try? nodes(asking: endpoint), all.count == 6, all.filter({ $0.isMaster && !$0.slots.isEmpty }).count == 3,
              all.filter({ !$0.isMaster && $0.masterID != nil }).count == 3 else { return false }
        for n in all {
            guard let c = try? admin(n.endpoint) else { return false }
            defer { c.close() }
            guard let info = try? c.command(["CLUSTER", "INFO"]).text,
                  info.contains("cluster_state:ok"), info.contains("cluster_slots_ok:16384") else { return false }
        }
        return true
    }

    /// Polls `condition` every 50 ms for at most `seconds`; returns whether it became true.
    @discardableResult
    public static func wait(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    private static func configured() -> Endpoint? {
        if let addr = ProcessInfo.processInfo.environment["KERNEL_REDIS_CLUSTER_ADDR"], let ep = Endpoint(address: addr) { return ep }
        guard let text = try? String(contentsOfFile: Repository.root.path + "/.run/cluster-env", encoding: .utf8) else {
            return nil
        }
        for line in text.split(separator: "\n") where line.contains("KERNEL_REDIS_CLUSTER_ADDR=") {
            let value = line.split(separator: "=", maxSplits: 1).last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) }
            if let value, let ep = Endpoint(address: value) { return ep }
        }
        return nil
    }

    private static func answers(_ endpoint: Endpoint) -> Bool {
        guard let c = try? RedisConnection(endpoint: endpoint, timeoutMs: 1000) else { return false }
        defer { c.close() }
        return (try? c.command(["CLUSTER", "INFO"]).text)?.contains("cluster_state:ok") == true
    }
}
