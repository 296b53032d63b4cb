import Foundation
import KernelConfig
import KernelCore
import KernelEvents
import KernelRedis
import KernelTestSupport
import Testing

/// `redis.shards` end to end against the standalone Redis and Postgres: producers publish each
/// event to the shard stream of its subject (`StreamShard`, docs/producers.md "Sharded streams and
/// Redis Cluster"); kernels read the shards assigned to them (`redis.read_shards`, all by default).
@Suite("Sharded ingest", .serialized)
struct ShardedIngestTests {
    static let shards = 4

    @Test func oneKernelReadsEveryShardAndStoresEachEventOnce() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let world = try ShardedWorld(h, subjectsPerShard: 2)
        let config = try ShardedWorld.config(h, readShards: [], consumer: "kernel-all")
        #expect(config.redis.assignedShards == [0, 1, 2, 3])
        let daemon = Daemon(config: config, logger: h.logger)
        try daemon.start()
        defer { daemon.stop() }

        let published = try world.publish(eventsPerSubject: 5)
        for shard in 0..<Self.shards {
            #expect(published[shard]?.count == 2 * 5, "every shard gets events (shard \(shard))")
        }
        let all = published.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        #expect(all.count == world.subjects.count * 5)
        #expect(try h.redis.command(["EXISTS", h.streamKey]).integer == 0, "nothing goes to the unsharded stream")

        try Self.expectStoredOnceAndAcknowledged(h, world, all, readBy: { _ in "kernel-all" })
    }

    @Test func twoKernelsSplitTheShardsWithReadShards() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let world = try ShardedWorld(h, subjectsPerShard: 2)
        let configA = try ShardedWorld.config(h, readShards: [0, 1], consumer: "kernel-a")
        let configB = try ShardedWorld.config(h, readShards: [2, 3], consumer: "kernel-b")
        #expect(configA.redis.assignedShards == [0, 1] && configB.redis.assignedShards == [2, 3])

        // Kernel A alone first: it must store the events of shards 0 and 1 and nothing else.
        let a = Daemon(config: configA, logger: h.logger)
        try a.start()
        defer { a.stop() }
        let published = try world.publish(eventsPerSubject: 4)
        let ofA = published[0]!.union(published[1]!)
        let ofB = published[2]!.union(published[3]!)
        let all = ofA.union(ofB)
        #expect(!ofA.isEmpty && !ofB.isEmpty && ofA.isDisjoint(with: ofB))

        #expect(h.waitUntil(timeout: 30) { try world.storedEventIDs().isSuperset(of: ofA) },
                "kernel A stores its shards' events")
        #expect(h.waitUntil { try world.pendingCount(shard: 0) == 0 && world.pendingCount(shard: 1) == 0 })
        #expect(try world.storedEventIDs() == ofA, "kernel A stores only shards 0 and 1")
        for shard in [2, 3] {
            #expect(try world.consumers(shard: shard).isEmpty, "kernel A never reads shard \(shard)")
            #expect(try world.pendingCount(shard: shard) == 0)
        }

        // Kernel B picks up shards 2 and 3; together they hold every event, once.
        let b = Daemon(config: configB, logger: h.logger)
        try b.start()
        defer { b.stop() }
        try Self.expectStoredOnceAndAcknowledged(h, world, all, readBy: { shard in shard < 2 ? "kernel-a" : "kernel-b" })
    }

    /// Every event of `all` stored once and nothing else, nothing dead-lettered, and each shard
    /// acknowledged after commit and read by its kernel (`readBy`) only.
    fileprivate static func expectStoredOnceAndAcknowledged(_ h: IngestHarness, _ world: ShardedWorld, _ all: Set<String>,
                                                readBy kernel: (Int) -> String) throws {
        #expect(h.waitUntil(timeout: 30) { try world.storedEventIDs() == all },
                "\((try? world.storedEventIDs().count) ?? -1) of \(all.count) stored")
        #expect(try h.count("SELECT count(*) FROM md_trade") == all.count, "each event stored once")
        #expect(try h.deadLetters().isEmpty, "\(String(describing: try? h.deadLetters().prefix(3)))")
        for shard in 0..<shards {
            #expect(h.waitUntil { try world.pendingCount(shard: shard) == 0 }, "shard \(shard) acknowledged after commit")
            #expect(try world.consumers(shard: shard) == [kernel(shard)], "shard \(shard) is read by its kernel only")
        }
    }

    // MARK: the example producers

    @Test func pythonShardRuleMatchesTheVectors() throws {
        let (status, output) = try ProducerExampleTests.runToEnd(
            "/usr/bin/env", ["python3", "-m", "unittest", "-v", "test_shard.py"], directory: ProducerExampleTests.pythonDir)
        #expect(status == 0, "python3 -m unittest test_shard.py failed:\n\(output)")
        #expect(output.contains("test_fixed_vectors") && output.contains("\nOK"), "\(output)")
    }

    @Test(arguments: ExampleProducer.allCases)
    func producerPublishesToTheShardOfEachSubject(_ producer: ExampleProducer) throws {
        guard let (tool, toolArgs) = try producer.command() else { return }
        try Self.runProducer(name: "\(producer)-sharded", tool: tool, toolArgs: toolArgs)
    }

    /// Runs an example producer with `--shards 4` against a kernel with `redis.shards: 4`: every
    /// entry of every shard stream belongs to a subject of that shard, the unsharded stream stays
    /// empty, and everything published lands once.
    static func runProducer(name: String, tool: String, toolArgs: [String] = []) throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        try ProducerExampleTests.makeProducerIdentity(h, name: name)
        let daemon = Daemon(config: try ShardedWorld.config(h, readShards: [], consumer: "kernel-test"), logger: h.logger)
        try daemon.start()
        defer { daemon.stop() }

        let outputPath = h.dir + "/producer.out"
        let process = try ProducerExampleTests.start(
            tool, toolArgs + ["--redis", IngestHarness.redisAddr, "--prefix", h.prefix, "--key", h.dir + "/producer",
                              "--name", name, "--shards", String(shards), "--rate", "200", "--seconds", "3"],
            output: outputPath)
        defer { if process.isRunning { process.terminate() } }
        func output() -> String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

        guard let producerID = try ProducerExampleTests.approveWhenPending(h, output: output)?.producerID else { return }

        let exited = h.waitUntil(timeout: 90) { !process.isRunning }
        #expect(exited, "the producer exits after --seconds: \(output())")
        guard exited else { return }
        let text = output()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "clean exit: \(text)")

        // The producer says where each subject goes; check it against the rule.
        let subjectLines = text.split(separator: "\n").filter { $0.hasPrefix("subject ") && $0.contains("subject_id=") }
        #expect(subjectLines.count == ProducerExampleTests.typedTables.count, "\(text)")
        for line in subjectLines {
            let fields = Dictionary(line.split(separator: " ").compactMap { field -> (String, String)? in
                let parts = field.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { $1 })
            let shard = StreamShard.index(subjectID: fields["subject_id"] ?? "", shards: shards)
            #expect(shard != nil && fields["shard"] == shard.map(String.init), "\(line)")
            #expect(fields["stream"] == shard.map { h.streamKey + ":{\($0)}" }, "\(line)")
        }

        let published = ProducerExampleTests.publishedCount(text)
        #expect(published > 0, "\(text)")
        #expect(try h.redis.command(["EXISTS", h.streamKey]).integer == 0, "nothing goes to the unsharded stream")
        let world = ShardedWorld(h)
        var onStreams = 0
        for shard in 0..<shards {
            for subject in try world.subjectIDs(onShard: shard) {
                #expect(StreamShard.index(subjectID: subject, shards: shards) == shard, "\(subject) on shard \(shard)")
                onStreams += 1
            }
        }
        #expect(onStreams == published, "every published event is on a shard stream")
        let landed = ProducerExampleTests.landedQuery(producerID: producerID)
        #expect(h.waitUntil(timeout: 30) { try h.count(landed) == published },
                "\(published) published, \((try? h.count(landed)) ?? -1) stored")
        #expect(try h.deadLetters().isEmpty, "\(String(describing: try? h.deadLetters().prefix(3)))")
        for shard in 0..<shards {
            #expect(h.waitUntil { try world.pendingCount(shard: shard) == 0 }, "shard \(shard) acknowledged")
        }
    }
}

// MARK: - On a Redis Cluster

/// The example producers with `--cluster --shards 16` against a kernel with `redis.cluster: true`
/// and `redis.shards: 16` on the real cluster of `.ci/redis-cluster` (KERNEL_REDIS_CLUSTER_ADDR or
/// .run/cluster-env; started with `.ci/redis-cluster up` when neither answers, as the
/// KernelRedisTests cluster fixture does).
@Suite("Sharded ingest on a Redis Cluster", .serialized, .clusterExclusive)
struct ShardedClusterIngestTests {
    static let shards = 16

    @Test(arguments: ExampleProducer.allCases)
    func producerAndKernelOnAClusterWithSixteenShards(_ producer: ExampleProducer) throws {
        guard let (tool, toolArgs) = try producer.command() else { return }
        try Self.runOnCluster(name: "\(producer)-cluster", tool: tool, toolArgs: toolArgs)
    }

    static func runOnCluster(name: String, tool: String, toolArgs: [String] = []) throws {
        let seed = try ClusterSeed.address()
        let h = try IngestHarness()
        defer { h.tearDown() }
        let cluster = try RedisClusterClient(settings: RedisSettings(endpoint: RedisConnection.Endpoint(address: seed)!,
                                                                     commandTimeoutMs: 5000, cluster: true))
        defer {
            ClusterSeed.deleteKeys(prefix: h.prefix, via: cluster)
            cluster.close()
        }
        try ProducerExampleTests.makeProducerIdentity(h, name: name)

        var text = h.yaml(consumer: "kernel-cluster")
        let addrLine = "addr: \"\(IngestHarness.redisAddr)\""
        guard text.contains(addrLine) else { throw HarnessError(message: "the harness YAML changed shape:\n\(text)") }
        text = text.replacingOccurrences(of: addrLine, with: "addr: \"\(seed)\"\n  cluster: true\n  shards: \(Self.shards)")
        let config = try KernelConfig.parse(yaml: text)
        #expect(config.redis.cluster && config.redis.assignedShards == Array(0..<Self.shards))
        let daemon = Daemon(config: config, logger: h.logger)
        try daemon.start()
        defer { daemon.stop() }

        let outputPath = h.dir + "/producer.out"
        let process = try ProducerExampleTests.start(
            tool, toolArgs + ["--redis", seed, "--cluster", "--shards", String(shards), "--prefix", h.prefix,
                              "--key", h.dir + "/producer", "--name", name, "--rate", "200", "--seconds", "3"],
            output: outputPath)
        defer { if process.isRunning { process.terminate() } }
        func output() -> String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

        guard let (fingerprint, producerID) = ProducerExampleTests.pendingKey(h, output: output, route: " through the cluster")
        else { return }
        // As ProducerExampleTests.approve, with the notification written to the cluster.
        _ = try h.pg.query("SELECT approve_producer_key_new($1, $2::uuid, 'test-admin')", [fingerprint, producerID])
        let nonce = try h.pg.query("SELECT nonce FROM producer_registrations WHERE fingerprint = $1 ORDER BY ts DESC LIMIT 1",
                                   [fingerprint]).scalar ?? ""
        let answer = h.prefix + "register:resp:" + nonce
        try cluster.command(["XADD", answer, "*", "fingerprint", fingerprint, "producer_id", producerID, "status", "approved"])
        try cluster.command(["EXPIRE", answer, "300"])

        let exited = h.waitUntil(timeout: 90) { !process.isRunning }
        #expect(exited, "the producer exits after --seconds: \(output())")
        guard exited else { return }
        let out = output()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "clean exit: \(out)")
        let published = ProducerExampleTests.publishedCount(out)
        #expect(published > 0, "\(out)")

        // Every entry sits on the shard stream of its subject.
        var onStreams = 0
        for shard in 0..<Self.shards {
            let stream = StreamShard.streamKey(base: h.streamKey, shard: shard, shards: Self.shards)
            for subject in subjectIDsOfEntries(try cluster.command(["XRANGE", stream, "-", "+"])) {
                #expect(StreamShard.index(subjectID: subject, shards: Self.shards) == shard, "\(subject) on shard \(shard)")
                onStreams += 1
            }
        }
        #expect(onStreams == published, "every published event is on a shard stream")
        let landed = ProducerExampleTests.landedQuery(producerID: producerID)
        #expect(h.waitUntil(timeout: 30) { try h.count(landed) == published },
                "\(published) published, \((try? h.count(landed)) ?? -1) stored")
        #expect(try cluster.command(["XLEN", h.dlqKey]).integer == 0, "nothing dead-lettered")
        for shard in 0..<Self.shards {
            let stream = StreamShard.streamKey(base: h.streamKey, shard: shard, shards: Self.shards)
            #expect(h.waitUntil {
                let reply = try cluster.command(["XPENDING", stream, "kernel"])
                if case .error = reply { return true }  // no entries ever reached this shard
                return reply.array?.first?.integer == 0
            }, "shard \(shard) acknowledged")
        }
    }
}

/// The test cluster's seed address and key clean-up.
private enum ClusterSeed {
    static func address() throws -> String {
        if let found = configured(), answers(found) { return found }
        let up = Process()
        up.executableURL = URL(fileURLWithPath: IngestHarness.repoRoot + "/.ci/redis-cluster")
        up.arguments = ["up"]
        up.standardOutput = FileHandle.nullDevice
        try up.run()
        up.waitUntilExit()
        guard up.terminationStatus == 0, let found = configured(), answers(found) else {
            throw HarnessError(message: ".ci/redis-cluster up: no cluster answers (exit \(up.terminationStatus))")
        }
        return found
    }

    private static func configured() -> String? {
        if let addr = ProcessInfo.processInfo.environment["KERNEL_REDIS_CLUSTER_ADDR"], !addr.isEmpty { return addr }
        guard let text = try? String(contentsOfFile: IngestHarness.repoRoot + "/.run/cluster-env", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.contains("KERNEL_REDIS_CLUSTER_ADDR=") {
            return line.split(separator: "=", maxSplits: 1).last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) }
        }
        return nil
    }

    private static func answers(_ address: String) -> Bool {
        guard let endpoint = RedisConnection.Endpoint(address: address),
              let c = try? RedisConnection(endpoint: endpoint, timeoutMs: 1000) else { return false }
        defer { c.close() }
        return (try? c.command(["CLUSTER", "INFO"]).text)?.contains("cluster_state:ok") == true
    }

    /// Deletes every key under `prefix` on every master (CLUSTER SLOTS names them).
    static func deleteKeys(prefix: String, via cluster: RedisClusterClient) {
        guard let slots = (try? cluster.command(["CLUSTER", "SLOTS"]))?.array else { return }
        var masters: Set<String> = []
        for range in slots {
            guard let fields = range.array, fields.count >= 3, let node = fields[2].array, node.count >= 2,
                  let host = node[0].text, let port = node[1].integer else { continue }
            masters.insert("\(host):\(port)")
        }
        for master in masters {
            guard let endpoint = RedisConnection.Endpoint(address: master),
                  let c = try? RedisConnection(endpoint: endpoint, timeoutMs: 2000) else { continue }
            defer { c.close() }
            var cursor = "0"
            repeat {
                guard let reply = (try? c.command(["SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"]))?.array,
                      reply.count == 2 else { break }
                cursor = reply[0].text ?? "0"
                for key in reply[1].array ?? [] { if let k = key.text { _ = try? c.command(["DEL", k]) } }
            } while cursor != "0"
        }
    }

}

/// The `subject_id` of every entry of an XRANGE reply, in stream order.
private func subjectIDsOfEntries(_ reply: RedisReply) -> [String] {
    (reply.array ?? []).compactMap { item in
        guard let pair = item.array, pair.count == 2, let fields = pair[1].array else { return nil }
        var i = 0
        while i + 1 < fields.count {
            if fields[i].text == "payload", let payload = fields[i + 1].text,
               let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] {
                return object["subject_id"] as? String
            }
            i += 2
        }
        return nil
    }
}

/// Subjects spread over the shards, a producer bound to all of them, and the Redis views the
/// sharded tests need.
private struct ShardedWorld {
    let h: IngestHarness
    let shards = ShardedIngestTests.shards
    var subjects: [EventUUID] = []
    var subjectsByShard: [Int: [EventUUID]] = [:]
    var token = ""

    /// Only the observing helpers (no subjects).
    init(_ h: IngestHarness) {
        self.h = h
    }

    /// Makes trade subjects until every shard has `subjectsPerShard` of them (subject ids are
    /// random, so the count varies), binds them to one producer and mints its token.
    init(_ h: IngestHarness, subjectsPerShard: Int) throws {
        self.h = h
        let producer = try h.producer()
        var attempts = 0
        while (0..<shards).contains(where: { (subjectsByShard[$0]?.count ?? 0) < subjectsPerShard }) {
            attempts += 1
            guard attempts <= 200 else { throw HarnessError(message: "subject ids do not cover \(shards) shards") }
            let subject = try h.subject(family: "trade").subject
            let shard = StreamShard.index(subjectID: subject, shards: shards)
            guard (subjectsByShard[shard]?.count ?? 0) < subjectsPerShard else { continue }
            try h.bind(producer, subject)
            subjects.append(subject)
            subjectsByShard[shard, default: []].append(subject)
        }
        token = try h.token(for: producer)
    }

    /// The test's kernel config with `redis.shards: 4`, `redis.read_shards` and its own consumer
    /// name and spill directory (two kernels in one process must not share a spill lock).
    static func config(_ h: IngestHarness, readShards: [Int], consumer: String) throws -> KernelConfig {
        var text = h.yaml(consumer: consumer)
        let redisLines = "\nredis:\n  shards: \(ShardedIngestTests.shards)\n  read_shards: [\(readShards.map(String.init).joined(separator: ", "))]\n"
        guard text.contains("\nredis:\n"), text.contains("\"\(h.dir)/spill\"") else {
            throw HarnessError(message: "the harness YAML changed shape:\n\(text)")
        }
        text = text.replacingOccurrences(of: "\nredis:\n", with: redisLines)
        text = text.replacingOccurrences(of: "\"\(h.dir)/spill\"", with: "\"\(h.dir)/spill-\(consumer)\"")
        return try KernelConfig.parse(yaml: text)
    }

    func streamKey(shard: Int) -> String {
        StreamShard.streamKey(base: h.streamKey, shard: shard, shards: shards)
    }

    /// Publishes `eventsPerSubject` trades of every subject, interleaved, each to its subject's
    /// shard stream; returns the event ids by shard.
    func publish(eventsPerSubject: Int) throws -> [Int: Set<String>] {
        var byShard: [Int: Set<String>] = [:]
        for i in 0..<eventsPerSubject {
            for subject in subjects {
                let eventID = UUID()
                let envelope = IngestHarness.envelope(
                    subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"\#(100 + i)","size":"1"}"#, eventID: eventID)
                let shard = StreamShard.index(subjectID: subject, shards: shards)
                try h.redis.command(["XADD", streamKey(shard: shard), "*", "payload", envelope, "token", token])
                byShard[shard, default: []].insert(eventID.uuidString.lowercased())
            }
        }
        return byShard
    }

    func storedEventIDs() throws -> Set<String> {
        Set(try h.pg.query("SELECT event_id::text FROM md_trade").rows.compactMap { $0.first ?? nil })
    }

    /// Entries delivered to the group and not yet acknowledged on `shard`'s stream.
    func pendingCount(shard: Int) throws -> Int {
        let reply = try h.redis.command(["XPENDING", streamKey(shard: shard), "kernel"])
        if case .error = reply { return 0 }  // no group yet: nothing was ever delivered
        return Int(reply.array?.first?.integer ?? 0)
    }

    /// The consumers the group has on `shard`'s stream (a consumer appears on its first read).
    func consumers(shard: Int) throws -> [String] {
        let reply = try h.redis.command(["XINFO", "CONSUMERS", streamKey(shard: shard), "kernel"])
        if case .error = reply { return [] }  // no group on this stream: nobody read it
        return (reply.array ?? []).compactMap { consumer in
            guard let flat = consumer.array else { return nil }
            var i = 0
            while i + 1 < flat.count {
                if flat[i].text == "name" { return flat[i + 1].text }
                i += 2
            }
            return nil
        }.sorted()
    }

    /// The `subject_id` of every entry of `shard`'s stream, in stream order.
    func subjectIDs(onShard shard: Int) throws -> [String] {
        subjectIDsOfEntries(try h.redis.command(["XRANGE", streamKey(shard: shard), "-", "+"]))
    }
}
