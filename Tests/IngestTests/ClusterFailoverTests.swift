import Foundation
import KernelConfig
import KernelCore
import KernelEvents
import KernelRedis
import KernelTestSupport
import Testing

/// The kernel on the real cluster of `.ci/redis-cluster` (8 shard streams) while the cluster's
/// topology changes under load: a live slot migration of a shard stream with its consumer group
/// and pending entries, and a manual failover of a master holding shard streams. Whatever
/// happens, every published event is stored once, nothing is dead-lettered and every shard's
/// pending list drains. The layout is put back in a `defer`, also when a test fails.
@Suite("Kernel on a Redis Cluster under topology changes", .serialized, .clusterExclusive)
struct ClusterFailoverTests {
    static let shards = 8

    @Test func slotMigrationOfAShardStreamUnderLoad() throws {
        let world = try FailoverWorld()
        defer { world.tearDown() }
        let seed = world.seedEndpoint

        // The shard to move: its stream must exist with the kernel's group and pending entries.
        let shard = 3
        let stream = world.streamKey(shard: shard)
        let slot = try LiveClusterTopology.slot(of: stream, seed: seed)
        let source = try LiveClusterTopology.owner(ofSlot: slot, seed: seed)
        let target = try #require(try LiveClusterTopology.nodes(asking: seed).first(where: { $0.isMaster && !$0.slots.isEmpty && $0.id != source.id }))
        defer {
            do { try LiveClusterTopology.restore(slot: slot, to: source, seed: seed) } catch {
                Issue.record("restoring slot \(slot) to \(source.endpoint): \(error)")
            }
        }

        try world.startKernel()
        world.publisher.start()
        defer { world.publisher.stop() }
        #expect(world.waitForPublished(200), "the publisher got going: \(world.publisher.failures)")

        var pendingAtMigrate = 0
        try LiveClusterTopology.migrate(slot: slot, from: source, to: target, seed: seed, whileMigrating: {
            // Half-migrated slot, keys still on the source: writes and reads keep going there.
            Thread.sleep(forTimeInterval: 1)
            // Move the stream while the group has entries delivered and not yet acknowledged.
            LiveClusterTopology.wait(seconds: 10) {
                pendingAtMigrate = (try? world.pending(shard: shard, on: source.endpoint)) ?? 0
                return pendingAtMigrate > 0
            }
        }, whileAsking: {
            Thread.sleep(forTimeInterval: 1)  // every command on the slot is answered ASK now
        })
        #expect(pendingAtMigrate > 0, "the stream moved with a non-empty pending list")
        #expect(try LiveClusterTopology.owner(ofSlot: slot, seed: seed).id == target.id)
        #expect(try world.groupExists(shard: shard, on: target.endpoint), "the group moved with the stream")

        // Keep publishing onto the moved stream, then stop and let the kernel drain.
        let before = world.publisher.count
        #expect(world.waitForPublished(before + 300), "publishing continues after the move: \(world.publisher.failures)")
        world.publisher.stop()
        world.expectEverythingStoredOnce()
    }

    @Test func failoverOfAMasterHoldingShardStreamsUnderLoad() throws {
        let world = try FailoverWorld()
        defer { world.tearDown() }
        let seed = world.seedEndpoint

        let shard = 5
        let slot = try LiveClusterTopology.slot(of: world.streamKey(shard: shard), seed: seed)
        let master = try LiveClusterTopology.owner(ofSlot: slot, seed: seed)
        let replica = try #require(try LiveClusterTopology.nodes(asking: seed).first(where: { $0.masterID == master.id && !$0.failed }),
                                   "a replica of \(master.endpoint)")
        let shardsOnMaster = try (0..<Self.shards).filter {
            master.owns(try LiveClusterTopology.slot(of: world.streamKey(shard: $0), seed: seed))
        }
        defer {
            do {
                try LiveClusterTopology.failBack(to: master, slot: slot, seed: seed)
                if !LiveClusterTopology.wait(seconds: 30, { LiveClusterTopology.healthy(seed: seed) }) {
                    Issue.record("cluster not healthy after failing back to \(master.endpoint)")
                }
            } catch {
                Issue.record("failing back to \(master.endpoint): \(error)")
            }
        }

        try world.startKernel()
        world.publisher.start()
        defer { world.publisher.stop() }
        #expect(world.waitForPublished(300), "the publisher got going: \(world.publisher.failures)")
        #expect(try world.groupExists(shard: shard, on: master.endpoint), "the kernel reads shard \(shard) on \(master.endpoint)")

        try LiveClusterTopology.failover(to: replica, from: master, slot: slot, seed: seed)
        var count = world.publisher.count
        #expect(world.waitForPublished(count + 300), "publishing continues on the new master: \(world.publisher.failures)")
        // Every shard the old master held is read and acknowledged on the new one.
        for s in shardsOnMaster {
            #expect(world.waitUntilStored(from: s), "shard \(s) is read on \(replica.endpoint)")
        }

        try LiveClusterTopology.failBack(to: master, slot: slot, seed: seed)
        count = world.publisher.count
        #expect(world.waitForPublished(count + 300), "publishing continues after failing back: \(world.publisher.failures)")
        world.publisher.stop()
        #expect(!shardsOnMaster.isEmpty)
        world.expectEverythingStoredOnce()
    }
}

/// One test's world: a harness (Postgres database, key prefix), trade subjects covering all 8
/// shards bound to one producer, a kernel on the cluster and a publisher thread.
final class FailoverWorld: @unchecked Sendable {
    let h: IngestHarness
    let seed: String
    let seedEndpoint: RedisConnection.Endpoint
    let log = CapturedLogs.infraWarnings()
    let publisher: ClusterPublisher
    private let observer: RedisClusterClient
    private var daemon: Daemon?
    let shards = ClusterFailoverTests.shards

    init() throws {
        let seed = try LiveClusterTopology.seed()
        guard let endpoint = RedisConnection.Endpoint(address: seed) else { throw HarnessError(message: "bad seed \(seed)") }
        // A topology test that ran before may still be settling.
        guard LiveClusterTopology.wait(seconds: 30, { LiveClusterTopology.healthy(seed: endpoint) }) else {
            throw HarnessError(message: "the cluster at \(seed) is not healthy")
        }
        self.seed = seed
        seedEndpoint = endpoint
        h = try IngestHarness()
        observer = try RedisClusterClient(settings: RedisSettings(endpoint: seedEndpoint, commandTimeoutMs: 5000, cluster: true))
        let producer = try h.producer()
        var byShard: [Int: [EventUUID]] = [:]
        var attempts = 0
        while (0..<shards).contains(where: { (byShard[$0]?.count ?? 0) < 2 }) {
            attempts += 1
            guard attempts <= 400 else { throw HarnessError(message: "subject ids do not cover \(shards) shards") }
            let subject = try h.subject(family: "trade").subject
            let shard = StreamShard.index(subjectID: subject, shards: shards)
            guard (byShard[shard]?.count ?? 0) < 2 else { continue }
            try h.bind(producer, subject)
            byShard[shard, default: []].append(subject)
        }
        let subjects = byShard.keys.sorted().flatMap { byShard[$0]! }
        let streamBase = h.streamKey
        let shardCount = shards
        publisher = try ClusterPublisher(seed: seedEndpoint, token: try h.token(for: producer), subjects: subjects) { subject in
            StreamShard.streamKey(base: streamBase, subjectID: subject, shards: shardCount)
        }
    }

    func streamKey(shard: Int) -> String { StreamShard.streamKey(base: h.streamKey, shard: shard, shards: shards) }

    /// An in-process kernel with `redis.cluster: true` and `redis.shards: 8` on the seed node;
    /// batches wait up to 250 ms, so entries sit in the pending lists while the topology changes.
    func startKernel() throws {
        var text = h.yaml(batchMaxWaitMs: 250, consumer: "kernel-cluster")
        let addrLine = "addr: \"\(IngestHarness.redisAddr)\""
        guard text.contains(addrLine) else { throw HarnessError(message: "the harness YAML changed shape:\n\(text)") }
        text = text.replacingOccurrences(of: addrLine, with: "addr: \"\(seed)\"\n  cluster: true\n  shards: \(shards)")
        let config = try KernelConfig.parse(yaml: text)
        guard config.redis.cluster, config.redis.assignedShards == Array(0..<shards) else {
            throw HarnessError(message: "config not sharded on the cluster: \(config.redis)")
        }
        let d = Daemon(config: config, logger: log.logger(label: "cluster-failover-test", level: .info))
        try d.start()
        daemon = d
    }

    func tearDown() {
        publisher.stop()
        daemon?.stop()
        daemon = nil
        LiveClusterTopology.deleteKeys(prefix: h.prefix, seed: seedEndpoint)
        observer.close()
        h.tearDown()
    }

    func waitForPublished(_ n: Int) -> Bool { h.waitUntil(timeout: 20) { self.publisher.count >= n } }

    /// The group's pending count for `shard`, asked of one node directly (no redirection).
    func pending(shard: Int, on node: RedisConnection.Endpoint) throws -> Int {
        let c = try LiveClusterTopology.admin(node)
        defer { c.close() }
        return Int(try c.command(["XPENDING", streamKey(shard: shard), "kernel"]).array?.first?.integer ?? 0)
    }

    func groupExists(shard: Int, on node: RedisConnection.Endpoint) throws -> Bool {
        let c = try LiveClusterTopology.admin(node)
        defer { c.close() }
        let groups = try c.command(["XINFO", "GROUPS", streamKey(shard: shard)]).array ?? []
        return groups.contains { ($0.array ?? []).contains(.string(Array("kernel".utf8))) }
    }

    /// Everything published so far on `shard` is stored (the shard's reader works).
    func waitUntilStored(from shard: Int) -> Bool {
        let ids = publisher.published(shard: shard, shardOf: { StreamShard.index(subjectID: $0, shards: self.shards) })
        return h.waitUntil(timeout: 20) { try self.storedEventIDs().isSuperset(of: ids) }
    }

    func storedEventIDs() throws -> Set<String> {
        Set(try h.pg.query("SELECT event_id::text FROM md_trade").rows.compactMap { $0.first ?? nil })
    }

    /// The suite's verdict after the publisher stopped: each published event stored once, no
    /// dead letters, every shard's pending list empty. The kernel's infra warnings are printed.
    func expectEverythingStoredOnce(sourceLocation: SourceLocation = #_sourceLocation) {
        let published = publisher.publishedIDs
        let unresolved = publisher.unresolved
        #expect(unresolved.isEmpty, "XADDs never confirmed: \(unresolved.count)", sourceLocation: sourceLocation)
        #expect(published.count > 500, "\(published.count) published", sourceLocation: sourceLocation)
        let allStored = h.waitUntil(timeout: 30) { try self.storedEventIDs() == published }
        let stored = (try? storedEventIDs()) ?? []
        #expect(allStored, "\(published.subtracting(stored).count) of \(published.count) published events missing, \(stored.subtracting(published).count) unknown stored",
                sourceLocation: sourceLocation)
        #expect((try? h.count("SELECT count(*) FROM md_trade")) == published.count, "each event stored once", sourceLocation: sourceLocation)
        #expect((try? observer.command(["XLEN", h.dlqKey]).integer) == 0, "nothing dead-lettered", sourceLocation: sourceLocation)
        for shard in 0..<shards {
            let drained = h.waitUntil(timeout: 15) {
                let reply = try self.observer.command(["XPENDING", self.streamKey(shard: shard), "kernel"])
                return reply.array?.first?.integer == 0
            }
            #expect(drained, "shard \(shard)'s pending list drains", sourceLocation: sourceLocation)
        }
        let lines = log.all.map { "\(ISO8601DateFormatter().string(from: $0.date)) \($0.text)" }
        print("[ClusterFailoverTests] published \(published.count) (\(publisher.retried) XADDs retried after an error); kernel logged \(lines.count) infra warnings/errors")
        for line in lines.prefix(40) { print("[ClusterFailoverTests]   \(line)") }
    }
}

/// Publishes trades on its own thread and cluster client, round robin over the subjects (so over
/// all shards), each to its subject's shard stream, ~1000/s. An XADD that fails (a lost
/// connection: it may have run) is sent again with the same envelope, same event id and ts: the
/// kernel stores an event id once, so a duplicate entry must not become a duplicate row.
final class ClusterPublisher: @unchecked Sendable {
    private let client: RedisClusterClient
    private let token: String
    private let subjects: [EventUUID]
    private let streamOf: @Sendable (EventUUID) -> String
    private let lock = NSLock()
    private var ids: [String: EventUUID] = [:]  // event id -> subject
    private var unconfirmed: Set<String> = []
    private var errors: [String] = []
    private var retries = 0
    private var stopping = false
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    init(seed: RedisConnection.Endpoint, token: String, subjects: [EventUUID], streamOf: @escaping @Sendable (EventUUID) -> String) throws {
        client = try RedisClusterClient(settings: RedisSettings(endpoint: seed, commandTimeoutMs: 5000, cluster: true))
        self.token = token
        self.subjects = subjects
        self.streamOf = streamOf
    }

    var count: Int { locked { ids.count } }
    var publishedIDs: Set<String> { locked { Set(ids.keys) } }
    var unresolved: Set<String> { locked { unconfirmed } }
    var retried: Int { locked { retries } }
    var failures: [String] { locked { Array(errors.suffix(5)) } }

    func published(shard: Int, shardOf: (EventUUID) -> Int) -> Set<String> {
        locked { Set(ids.filter { shardOf($0.value) == shard }.keys) }
    }

    func start() {
        let t = Thread { [self] in run(); done.signal() }
        locked { thread = t }
        t.start()
    }

    /// Stops and waits for the thread (idempotent); then closes the client.
    func stop() {
        let running: Bool = locked {
            let was = thread != nil && !stopping
            stopping = true
            return was
        }
        if running { done.wait(); client.close() }
    }

    private func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }

    private func run() {
        var i = 0
        while !locked({ stopping }) {
            let subject = subjects[i % subjects.count]
            let eventID = UUID().uuidString.lowercased()
            let envelope = IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(100 + i % 50)","size":"1"}"#,
                                                  eventID: UUID(uuidString: eventID)!)
            let stream = streamOf(subject)
            var sent = false
            var attempt = 0
            // Bounded: 20 s of retries; an XADD that never lands is reported, not hidden.
            while !sent && attempt < 400 {
                attempt += 1
                do {
                    let reply = try client.command(["XADD", stream, "*", "payload", envelope, "token", token])
                    if reply.text != nil {
                        sent = true
                    } else {
                        locked { errors.append("XADD \(stream): \(reply)"); retries += 1 }
                    }
                } catch {
                    locked { errors.append("XADD \(stream): \(error)"); retries += 1; unconfirmed.insert(eventID) }
                }
                if !sent { usleep(50_000) }
            }
            locked {
                unconfirmed.remove(eventID)
                if sent { ids[eventID] = subject } else { unconfirmed.insert(eventID) }
            }
            i += 1
            if i % 10 == 0 { usleep(10_000) }
        }
    }
}
