import Foundation
import KernelRedis
import KernelTestSupport
import Logging

/// Topology changes on the real cluster of `.ci/redis-cluster` for the ingest tests: who owns a
/// slot, a live slot migration (IMPORTING/MIGRATING, MIGRATE every key, SETSLOT NODE everywhere),
/// a manual `CLUSTER FAILOVER`, and putting the layout back. All calls block: run them on a test
/// thread, never on the Swift pool. Finding the cluster and reading its topology is
/// `LocalRedisCluster` (KernelTestSupport), shared with KernelRedisTests' ClusterFixture.
enum LiveClusterTopology {
    typealias Endpoint = RedisConnection.Endpoint
    typealias Node = LocalRedisCluster.Node

    /// The seed address ("host:port"): see `LocalRedisCluster.seed`.
    static func seed() throws -> String {
        let endpoint = try LocalRedisCluster.seed()
        return endpoint.host.contains(":") ? "[\(endpoint.host)]:\(endpoint.port)" : "\(endpoint.host):\(endpoint.port)"
    }

    static func admin(_ endpoint: Endpoint) throws -> RedisConnection { try LocalRedisCluster.admin(endpoint) }

    static func nodes(asking endpoint: Endpoint) throws -> [Node] { try LocalRedisCluster.nodes(asking: endpoint) }

    static func owner(ofSlot slot: Int, seed: Endpoint) throws -> Node { try LocalRedisCluster.owner(ofSlot: slot, asking: seed) }

    static func slot(of key: String, seed: Endpoint) throws -> Int {
        let c = try admin(seed)
        defer { c.close() }
        guard let n = try c.command(["CLUSTER", "KEYSLOT", key]).integer else { throw HarnessError(message: "CLUSTER KEYSLOT \(key)") }
        return Int(n)
    }

    static func healthy(seed: Endpoint) -> Bool { LocalRedisCluster.healthy(asking: seed) }

    @discardableResult
    static func wait(seconds: Double, _ condition: () -> Bool) -> Bool { LocalRedisCluster.wait(seconds: seconds, condition) }

    private static func expectOK(_ reply: RedisReply, _ what: String) throws {
        guard reply == .status("OK") else { throw HarnessError(message: "\(what): \(reply)") }
    }

    // MARK: - Slot migration

    /// Moves `slot` from `source` to `target` as `redis-cli --cluster reshard` does, with every key
    /// in it (other tests' keys may share a hash tag's slot). `whileMigrating` runs after the
    /// IMPORTING/MIGRATING states are set and before any key moves; `whileAsking` after every key
    /// moved and before the slot is handed over (clients are answered ASK then).
    static func migrate(slot: Int, from source: Node, to target: Node, seed: Endpoint,
                        whileMigrating: () throws -> Void = {}, whileAsking: () throws -> Void = {}) throws {
        let src = try admin(source.endpoint), dst = try admin(target.endpoint)
        defer { src.close(); dst.close() }
        try expectOK(try dst.command(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", source.id]), "SETSLOT IMPORTING")
        try expectOK(try src.command(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", target.id]), "SETSLOT MIGRATING")
        try whileMigrating()
        while true {
            guard let keys = try src.command(["CLUSTER", "GETKEYSINSLOT", String(slot), "100"]).array?.compactMap(\.text) else {
                throw HarnessError(message: "GETKEYSINSLOT \(slot) failed")
            }
            if keys.isEmpty { break }
            let reply = try src.command(["MIGRATE", target.endpoint.host, String(target.endpoint.port), "", "0", "5000", "KEYS"] + keys)
            guard reply == .status("OK") || reply == .status("NOKEY") else { throw HarnessError(message: "MIGRATE \(keys): \(reply)") }
        }
        try whileAsking()
        try assign(slot: slot, to: target, first: [dst, src], seed: seed)
    }

    /// SETSLOT NODE on the new owner, the old one, then every other master; waits until all agree.
    private static func assign(slot: Int, to owner: Node, first: [RedisConnection], seed: Endpoint) throws {
        for c in first { try expectOK(try c.command(["CLUSTER", "SETSLOT", String(slot), "NODE", owner.id]), "SETSLOT NODE") }
        let all = try nodes(asking: seed)
        for n in all where n.isMaster && n.id != owner.id {
            if let c = try? admin(n.endpoint) { _ = try? c.command(["CLUSTER", "SETSLOT", String(slot), "NODE", owner.id]); c.close() }
        }
        let agreed = wait(seconds: 15) {
            all.allSatisfy { n in (try? nodes(asking: n.endpoint).first { $0.isMaster && $0.owns(slot) }?.id) == owner.id }
        }
        guard agreed else { throw HarnessError(message: "the nodes did not agree that \(owner.endpoint) owns slot \(slot)") }
    }

    /// Puts `slot` back on `original` from whatever state a failed test left: half-set
    /// importing/migrating states are cleared, and the keys are moved back if the slot moved.
    static func restore(slot: Int, to original: Node, seed: Endpoint) throws {
        for n in try nodes(asking: seed) where n.isMaster {
            if let c = try? admin(n.endpoint) { _ = try? c.command(["CLUSTER", "SETSLOT", String(slot), "STABLE"]); c.close() }
        }
        let current = try owner(ofSlot: slot, seed: seed)
        if current.id != original.id { try migrate(slot: slot, from: current, to: original, seed: seed) }
        guard wait(seconds: 30, { healthy(seed: seed) }) else { throw HarnessError(message: "cluster not healthy after restoring slot \(slot)") }
    }

    // MARK: - Failover

    /// `CLUSTER FAILOVER` (no FORCE: the replica catches up with its master first, so no
    /// acknowledged write is lost) on `replica`, asked again if a vote is refused; returns when
    /// it owns `slot` and the cluster is healthy.
    static func failover(to replica: Node, from master: Node, slot: Int, seed: Endpoint) throws {
        // The master ignores a failover request from a node it does not know as its replica.
        let known = wait(seconds: 20) { (try? nodes(asking: master.endpoint).first { $0.id == replica.id }?.masterID) == master.id }
        guard known else { throw HarnessError(message: "\(master.endpoint) does not list \(replica.endpoint) as its replica") }
        let synced = wait(seconds: 30) {
            guard let c = try? admin(replica.endpoint) else { return false }
            defer { c.close() }
            return (try? c.command(["INFO", "replication"]).text?.contains("master_link_status:up")) == true
        }
        guard synced else { throw HarnessError(message: "\(replica.endpoint) has no live link to its master") }
        let r = try admin(replica.endpoint)
        defer { r.close() }
        for _ in 0..<3 {
            try expectOK(try r.command(["CLUSTER", "FAILOVER"]), "CLUSTER FAILOVER on \(replica.endpoint)")
            if wait(seconds: 10, { (try? owner(ofSlot: slot, seed: seed).id) == replica.id && healthy(seed: seed) }) { return }
        }
        throw HarnessError(message: "\(replica.endpoint) did not take over slot \(slot)")
    }

    /// Gives `original` its master role back if a failover left it a replica.
    static func failBack(to original: Node, slot: Int, seed: Endpoint) throws {
        let current = try owner(ofSlot: slot, seed: seed)
        guard current.id != original.id else { return }
        var asReplica = original
        asReplica.masterID = current.id
        try failover(to: asReplica, from: current, slot: slot, seed: seed)
    }

    // MARK: - Clean-up

    /// Deletes every key under `prefix` on every master.
    static func deleteKeys(prefix: String, seed: Endpoint) {
        guard let all = try? nodes(asking: seed) else { return }
        for n in all where n.isMaster {
            guard let c = try? admin(n.endpoint) else { continue }
            defer { c.close() }
            var cursor = "0"
            repeat {
                guard let reply = (try? c.command(["SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"]))?.array, reply.count == 2 else { break }
                cursor = reply[0].text ?? "0"
                for key in reply[1].array ?? [] { if let k = key.text { _ = try? c.command(["DEL", k]) } }
            } while cursor != "0"
        }
    }
}

extension CapturedLogs {
    /// Keeps the kernel's infra warnings and errors (and its "claimed" lines), so a test can print
    /// what the kernel said about a topology change (reconnects, failed acknowledgements). Only
    /// what it says about Redis and the pipeline (not e.g. the unset producer CA); log into it at
    /// `.info`.
    static func infraWarnings() -> CapturedLogs {
        CapturedLogs { ($0.level >= .warning || $0.message.contains("claimed")) && $0.metadata["event"] == "infra" }
    }
}
