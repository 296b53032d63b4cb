import Foundation
import KernelTestSupport
import Testing
@testable import KernelRedis

/// The cluster client against a real six-node cluster (`.ci/redis-cluster`). Serialized as a whole:
/// the migration and failover tests change the cluster's state under everything else.
@Suite(.serialized, .clusterExclusive) struct RedisClusterTests {
    typealias Endpoint = RedisConnection.Endpoint

    @Test func slotsMatchClusterKeyslot() async throws {
        let mismatches = try await onThread { () throws -> [String] in
            var keys: [[UInt8]] = ["", "{}", "{a}{b}", "a{", "}{", "{user1000}.following", "{user1000}.followers", "foo{}{bar}",
                                   "foo{{bar}}zap", "foo{bar}{zap}", "{", "}", "{{}}", "123456789", "t1:events:{0}", "t1:events:{7}",
                                   "ünïcødé{ключ}"].map { Array($0.utf8) }
            var rng = SplitMix64(seed: 42)
            let alphabet = Array("ab{}:x0".utf8)
            for i in 0..<400 {
                let n = Int(rng.next() % 24)
                // Half from a brace-heavy alphabet, half arbitrary bytes (keys are binary-safe).
                keys.append((0..<n).map { _ in i % 2 == 0 ? alphabet[Int(rng.next() % UInt64(alphabet.count))] : UInt8(truncatingIfNeeded: rng.next()) })
            }
            let admin = try ClusterFixture.admin(ClusterFixture.seedEndpoint())
            defer { admin.close() }
            let replies = try admin.pipeline(keys.map { [Array("CLUSTER".utf8), Array("KEYSLOT".utf8), $0] })
            return zip(keys, replies).compactMap { key, reply in
                reply.integer == Int64(ClusterSlot.of(key)) ? nil : "\(key): server \(reply), ours \(ClusterSlot.of(key))"
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test func keysLandOnTheirOwner() async throws {
        let (checked, wrong, moved) = try await onThread { () throws -> (Int, [String], Int) in
            let client = try ClusterFixture.client()
            defer { client.close() }
            let p = ClusterFixture.prefix()
            let keys = (0..<40).map { "\(p):k\($0)" }
            for k in keys { try ClusterFixture.require(try client.command(["SET", k, "v-\(k)"]) == .status("OK"), "SET \(k)") }
            let nodes = try ClusterFixture.nodes()
            var wrong: [String] = []
            var owners = Set<Endpoint>()
            for k in keys {
                let slot = ClusterSlot.of(k)
                guard let owner = nodes.first(where: { $0.isMaster && $0.owns(slot) }) else { wrong.append("\(k): no owner"); continue }
                owners.insert(owner.endpoint)
                let direct = try ClusterFixture.admin(owner.endpoint)
                defer { direct.close() }
                let got = try direct.command(["GET", k])
                if got.text != "v-\(k)" { wrong.append("\(k) on \(owner.endpoint): \(got)") }
            }
            try ClusterFixture.require(owners.count == 3, "40 keys should spread over all 3 masters, got \(owners.count)")
            for k in keys { try client.command(["DEL", k]) }
            return (keys.count, wrong, client.counters.moved)
        }
        #expect(checked == 40)
        #expect(wrong.isEmpty, "\(wrong)")
        #expect(moved == 0)
    }

    /// The stream commands the kernel sends, on hash-tagged keys spread over the masters:
    /// every one goes straight to its owner (no redirection on a stable cluster).
    @Test func streamCommandsRouteByHashTag() async throws {
        struct Outcome: Sendable { var delivered = 0; var acked = 0; var evalsha = 0; var eval = 0; var emptyBlocks = 0; var moved = 0; var asks = 0; var ownerLengths = 0; var xinfo = 0 }
        let outcome = try await onThread { () throws -> Outcome in
            var o = Outcome()
            // A command timeout shorter than the BLOCK below: setTimeout must reach connections
            // opened later, or the blocked reads fail with an I/O timeout.
            let client = try ClusterFixture.client(commandTimeoutMs: 300)
            defer { client.close() }
            client.setTimeout(ms: 3000)
            let p = ClusterFixture.prefix()
            let streams = (0..<8).map { "\(p):events:{\($0)}" }
            defer { for s in streams { _ = try? client.command(["DEL", s]) } }
            let script = "return redis.call('XLEN', KEYS[1])"
            var sha = ""
            for n in try ClusterFixture.nodes() where n.isMaster {
                let admin = try ClusterFixture.admin(n.endpoint)
                sha = try admin.command(["SCRIPT", "LOAD", script]).text ?? ""
                admin.close()
            }
            for s in streams {
                try ClusterFixture.require(try client.command(["XGROUP", "CREATE", s, "g", "$", "MKSTREAM"]) == .status("OK"), "XGROUP \(s)")
                let id = try client.command(["XADD", s, "*", "f", s])
                try ClusterFixture.require(id.text != nil, "XADD \(s): \(id)")
                let read = try client.command(["XREADGROUP", "GROUP", "g", "c1", "COUNT", "10", "BLOCK", "100", "STREAMS", s, ">"])
                if let entries = read.array?.first?.array?[1].array, entries.count == 1, entries[0].array?.first == id {
                    o.delivered += 1
                }
                if try client.command(["XACK", s, "g", id.text!]) == .integer(1) { o.acked += 1 }
                if try client.command(["EVALSHA", sha, "1", s]) == .integer(1) { o.evalsha += 1 }
                if try client.command(["EVAL", script, "1", s]) == .integer(1) { o.eval += 1 }
                if try client.command(["XINFO", "STREAM", s]).array?.isEmpty == false { o.xinfo += 1 }
            }
            // A blocked read on one stream per master: each waits out its BLOCK and returns nil.
            var perMaster: [Endpoint: String] = [:]
            for s in streams { perMaster[try ClusterFixture.owner(ofSlot: ClusterSlot.of(s)).endpoint] = s }
            try ClusterFixture.require(perMaster.count == 3, "tags {0}..{7} should cover all 3 masters")
            for s in perMaster.values {
                if try client.command(["XREADGROUP", "GROUP", "g", "c1", "BLOCK", "700", "STREAMS", s, ">"]) == .null { o.emptyBlocks += 1 }
            }
            for s in streams {
                let owner = try ClusterFixture.owner(ofSlot: ClusterSlot.of(s))
                let direct = try ClusterFixture.admin(owner.endpoint)
                if try direct.command(["XLEN", s]) == .integer(1) { o.ownerLengths += 1 }
                direct.close()
            }
            o.moved = client.counters.moved
            o.asks = client.counters.asks
            return o
        }
        #expect(outcome.delivered == 8)
        #expect(outcome.acked == 8)
        #expect(outcome.evalsha == 8)
        #expect(outcome.eval == 8)
        #expect(outcome.emptyBlocks == 3)
        #expect(outcome.ownerLengths == 8)
        #expect(outcome.xinfo == 8)
        #expect(outcome.moved == 0 && outcome.asks == 0)
    }

    @Test func crossSlotCommandsAreNotSent() async throws {
        let (errors, survived) = try await onThread { () throws -> ([RedisError], Bool) in
            let client = try ClusterFixture.client()
            defer { client.close() }
            let p = ClusterFixture.prefix()
            let a = "\(p):{0}", b = "\(p):{1}"
            try client.command(["SET", a, "1"])
            var errors: [RedisError] = []
            for args in [["DEL", a, b], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", a, b, ">", ">"], ["EVAL", "return 1", "2", a, b]] {
                do { _ = try client.command(args) } catch let e as RedisError { errors.append(e) }
            }
            do { _ = try client.pipeline([["SET", b, "2"], ["DEL", a, b]].map { $0.map { Array($0.utf8) } }) } catch let e as RedisError { errors.append(e) }
            let survived = try client.command(["GET", a]).text == "1" && client.command(["EXISTS", b]) == .integer(0)
            try client.command(["DEL", a])
            return (errors, survived)
        }
        #expect(errors.count == 4)
        #expect(errors.allSatisfy { $0.kind == RedisError.Kind.reply && $0.message.hasPrefix("CROSSSLOT") })
        #expect(survived, "a refused pipeline must send none of its commands")
    }

    @Test func pipelineAcrossNodesKeepsOrder() async throws {
        let (replies, expected) = try await onThread { () throws -> ([RedisReply], [RedisReply]) in
            let client = try ClusterFixture.client()
            defer { client.close() }
            let p = ClusterFixture.prefix()
            var commands: [[String]] = []
            var expected: [RedisReply] = []
            for i in 0..<30 {
                let k = "\(p):\(i)"
                commands += [["SET", k, "v\(i)"], ["INCR", "\(k):n"], ["GET", k], ["INCR", "\(k):n"]]
                expected += [.status("OK"), .integer(1), .string(Array("v\(i)".utf8)), .integer(2)]
                if i % 10 == 0 { commands.append(["PING"]); expected.append(.status("PONG")) }
            }
            // Same keys again in a second pipeline, so runs alternate nodes both ways.
            for i in stride(from: 29, through: 0, by: -3) {
                commands.append(["INCR", "\(p):\(i):n"]); expected.append(.integer(3))
            }
            let replies = try client.pipeline(commands.map { $0.map { Array($0.utf8) } })
            var cleanup: [[[UInt8]]] = []
            for i in 0..<30 { cleanup += [["DEL", "\(p):\(i)"], ["DEL", "\(p):\(i):n"]].map { $0.map { Array($0.utf8) } } }
            _ = try client.pipeline(cleanup)
            return (replies, expected)
        }
        #expect(replies == expected)
    }

    /// A connection killed under the client: the command fails (it is not retried: it may have
    /// run), the client stays usable, and nothing else of the cluster is touched.
    @Test func lostConnectionThrowsOnceThenRecovers() async throws {
        let (lost, after) = try await onThread { () throws -> (RedisError?, RedisReply) in
            let client = try ClusterFixture.client()
            defer { client.close() }
            let key = "\(ClusterFixture.prefix()):kill"
            try client.command(["SET", key, "v"])
            let owner = try ClusterFixture.owner(ofSlot: ClusterSlot.of(key))
            let admin = try ClusterFixture.admin(owner.endpoint)
            defer { admin.close() }
            // Only normal clients of this one node, and not the admin connection itself.
            _ = try admin.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
            var lost: RedisError?
            do { _ = try client.command(["GET", key]) } catch let e as RedisError { lost = e }
            let after = try client.command(["GET", key])
            try client.command(["DEL", key])
            return (lost, after)
        }
        #expect(lost?.isConnectionLost == true)
        #expect(after == .string(Array("v".utf8)))
    }

    /// A real slot migration: ASK while the slot is half moved, MOVED once it is, and the client
    /// answers correctly throughout. The slot is moved back afterwards.
    @Test func slotMigrationIsFollowed() async throws {
        struct Outcome: Sendable {
            var duringOld: RedisReply = .null, duringMoved: RedisReply = .null, duringNew: RedisReply = .null
            var after: [RedisReply] = []
            var asks = 0, moved = 0
            var splitRead: RedisReply = .null, splitRetries = 0
            var restored = false
        }
        let o = try await onThread { () throws -> Outcome in
            var o = Outcome()
            let client = try ClusterFixture.client()
            defer { client.close() }
            let tag = "\(ClusterFixture.prefix())mig"
            let slot = ClusterSlot.of(tag)
            let (k1, k2, k3) = ("{\(tag)}:1", "{\(tag)}:2", "{\(tag)}:3")
            try client.command(["SET", k1, "one"])
            try client.command(["SET", k2, "two"])
            let nodes = try ClusterFixture.nodes()
            let source = try ClusterFixture.owner(ofSlot: slot)
            let target = try ClusterFixture.unwrap(nodes.first { $0.isMaster && $0.id != source.id }, "a second master")
            let src = try ClusterFixture.admin(source.endpoint), dst = try ClusterFixture.admin(target.endpoint)
            defer { src.close(); dst.close() }

            func expectOK(_ r: RedisReply, _ what: String) throws { try ClusterFixture.require(r == .status("OK"), "\(what): \(r)") }
            func migrate(_ key: String) throws {
                try expectOK(try src.command(["MIGRATE", target.endpoint.host, String(target.endpoint.port), key, "0", "5000"]), "MIGRATE \(key)")
            }
            /// Moves `slot` from `a` to `b` for every node, waiting until every node agrees.
            func finish(owner b: ClusterFixture.Node, via admins: [RedisConnection]) throws {
                for admin in admins { try expectOK(try admin.command(["CLUSTER", "SETSLOT", String(slot), "NODE", b.id]), "SETSLOT NODE") }
                for n in nodes where n.isMaster && n.id != source.id && n.id != target.id {
                    let other = try ClusterFixture.admin(n.endpoint)
                    _ = try other.command(["CLUSTER", "SETSLOT", String(slot), "NODE", b.id])
                    other.close()
                }
                let agreed = ClusterFixture.wait(seconds: 15) {
                    nodes.allSatisfy { n in (try? ClusterFixture.nodes(asking: n.endpoint).first { $0.owns(slot) }?.id) == b.id }
                }
                try ClusterFixture.require(agreed, "the nodes did not agree on slot \(slot)'s owner")
            }

            try expectOK(try dst.command(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", source.id]), "IMPORTING")
            try expectOK(try src.command(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", target.id]), "MIGRATING")
            try migrate(k1)
            // k1 now lives on the target (ASK), k2 still on the source, a new k3 goes to the target (ASK).
            o.duringMoved = try client.command(["GET", k1])
            o.duringOld = try client.command(["GET", k2])
            try client.command(["SET", k3, "three"])
            o.duringNew = try dst.pipeline([["ASKING"], ["GET", k3]].map { $0.map { Array($0.utf8) } })[1]
            o.asks = client.counters.asks

            // A two-key read while its keys are split between the nodes cannot be served (ASK to a
            // node missing one key answers TRYAGAIN): the client backs off and retries, and gets
            // both values once k2 has moved too. k2 moves only after the source refused the read.
            func mgetRejections() throws -> Int {
                let stats = try src.command(["INFO", "commandstats"]).text ?? ""
                guard let line = stats.split(separator: "\r\n").first(where: { $0.hasPrefix("cmdstat_mget:") }),
                      let field = line.split(separator: ",").first(where: { $0.hasPrefix("rejected_calls=") }) else { return 0 }
                return Int(field.dropFirst("rejected_calls=".count)) ?? 0
            }
            let rejectedBefore = try mgetRejections()
            let retriesBefore = client.counters.retries
            let box = ResultBox()
            // The client is lent to the reader; this thread does not touch it until the reply is in.
            let lent = Lent(client)
            let reader = Thread { box.set(Result { try lent.value.command(["MGET", k1, k2]) }) }
            reader.start()
            let refused = ClusterFixture.wait(seconds: 10) { ((try? mgetRejections()) ?? 0) > rejectedBefore }
            try migrate(k2)
            let both = try box.wait(seconds: 20)
            try ClusterFixture.require(refused, "the source never refused the split MGET")
            o.splitRead = both
            o.splitRetries = client.counters.retries - retriesBefore
            try finish(owner: target, via: [dst, src])
            let movedBefore = client.counters.moved
            o.after = [try client.command(["GET", k1]), try client.command(["GET", k2]), try client.command(["GET", k3])]
            o.moved = client.counters.moved - movedBefore

            // Back to the source: the slot is emptied first, then handed over like any migration.
            try client.command(["DEL", k1, k2, k3])
            try expectOK(try src.command(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", target.id]), "IMPORTING back")
            try expectOK(try dst.command(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", source.id]), "MIGRATING back")
            try finish(owner: source, via: [src, dst])
            o.restored = ClusterFixture.wait(seconds: 15) { ClusterFixture.healthy() }
            return o
        }
        #expect(o.duringMoved == .string(Array("one".utf8)))
        #expect(o.duringOld == .string(Array("two".utf8)))
        #expect(o.duringNew == .string(Array("three".utf8)), "SET during the migration landed on the importing node")
        #expect(o.asks >= 2)
        #expect(o.splitRead == .array([.string(Array("one".utf8)), .string(Array("two".utf8))]))
        #expect(o.splitRetries >= 1, "TRYAGAIN was retried after a back-off")
        #expect(o.after == ["one", "two", "three"].map { .string(Array($0.utf8)) })
        #expect(o.moved == 1, "one MOVED, then the refreshed map routes the other keys")
        #expect(o.restored)
    }

    /// A real failover (CLUSTER FAILOVER on a replica): the client may fail once (lost connection)
    /// or be redirected, then keeps working; the old master is given its role back afterwards.
    @Test func failoverIsFollowed() async throws {
        struct Outcome: Sendable { var read: RedisReply = .null; var thrown = 0; var movedSeen = 0; var onNewMaster = false; var failedBack = false; var healthy = false; var cleaned = false }
        let o = try await onThread { () throws -> Outcome in
            var o = Outcome()
            let client = try ClusterFixture.client()
            defer { client.close() }
            let key = "\(ClusterFixture.prefix()):failover"
            let slot = ClusterSlot.of(key)
            try client.command(["SET", key, "before"])
            let master = try ClusterFixture.owner(ofSlot: slot)
            let replica = try ClusterFixture.unwrap(try ClusterFixture.nodes().first { $0.masterID == master.id && !$0.failed }, "a replica of \(master.endpoint)")

            func failover(to node: ClusterFixture.Node, from old: ClusterFixture.Node) throws {
                // The master must know `node` as its replica (it ignores a failover request from
                // any other node), and the replica must have the write, before asking.
                let known = ClusterFixture.wait(seconds: 20) {
                    (try? ClusterFixture.nodes(asking: old.endpoint).first { $0.id == node.id }?.masterID) == old.id
                }
                try ClusterFixture.require(known, "\(old.endpoint) does not list \(node.endpoint) as its replica")
                let m = try ClusterFixture.admin(old.endpoint)
                _ = try m.command(["WAIT", "1", "5000"])
                m.close()
                let r = try ClusterFixture.admin(node.endpoint)
                defer { r.close() }
                // A manual failover gives up after 5 s (e.g. a vote refused): ask again, a few times.
                for _ in 0..<3 {
                    try ClusterFixture.require(try r.command(["CLUSTER", "FAILOVER"]) == .status("OK"), "CLUSTER FAILOVER refused")
                    let promoted = ClusterFixture.wait(seconds: 10) {
                        (try? ClusterFixture.owner(ofSlot: slot).id) == node.id && ClusterFixture.healthy()
                    }
                    if promoted { return }
                }
                throw ClusterFixture.Failure(description: "\(node.endpoint) did not take over slot \(slot)")
            }

            try failover(to: replica, from: master)
            var read: RedisReply?
            ClusterFixture.wait(seconds: 20) {
                do { read = try client.command(["GET", key]); return read?.errorText == nil } catch { o.thrown += 1; return false }
            }
            o.read = read ?? .null
            o.movedSeen = client.counters.moved
            try client.command(["SET", key, "after"])
            let direct = try ClusterFixture.admin(replica.endpoint)
            o.onNewMaster = try direct.command(["GET", key]).text == "after"
            direct.close()

            // Fail back once the old master has caught up as a replica, so the layout is as before.
            let caughtUp = ClusterFixture.wait(seconds: 30) {
                guard let c = try? ClusterFixture.admin(master.endpoint) else { return false }
                defer { c.close() }
                return (try? c.command(["INFO", "replication"]).text?.contains("master_link_status:up")) == true
            }
            try ClusterFixture.require(caughtUp, "old master did not resync as a replica")
            var oldMaster = master
            oldMaster.masterID = replica.id
            try failover(to: oldMaster, from: replica)
            o.failedBack = true
            // The demoted node may drop the client's connection: the delete is retried until it lands.
            o.cleaned = ClusterFixture.wait(seconds: 20) { (try? client.command(["DEL", key]))?.integer != nil }
            o.healthy = ClusterFixture.wait(seconds: 30) { ClusterFixture.healthy() }
            return o
        }
        #expect(o.read == .string(Array("before".utf8)))
        #expect(o.thrown <= 2, "a failover costs at most a lost connection or two, not a stream of errors")
        #expect(o.thrown + o.movedSeen >= 1, "the client noticed the new master (MOVED or a dropped connection)")
        #expect(o.onNewMaster)
        #expect(o.failedBack)
        #expect(o.healthy)
        #expect(o.cleaned)
    }
}

/// Hands one result from a helper thread to the thread waiting for it.
final class ResultBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<RedisReply, any Error>?

    func set(_ r: Result<RedisReply, any Error>) {
        condition.lock(); result = r; condition.broadcast(); condition.unlock()
    }

    func wait(seconds: Double) throws -> RedisReply {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while result == nil, condition.wait(until: deadline) {}
        guard let result else { throw ClusterFixture.Failure(description: "no reply within \(seconds) s") }
        return try result.get()
    }
}

/// A non-Sendable value handed to exactly one other thread while its owner waits.
final class Lent<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
