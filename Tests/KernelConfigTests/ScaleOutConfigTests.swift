import Testing
@testable import KernelConfig

@Suite("Scale-out keys: cluster, shards, read_shards, dead_consumer_ms")
struct ScaleOutConfigTests {
    @Test("defaults: one unsharded stream read whole, no cluster, dead consumers removed after an hour")
    func defaults() throws {
        let config = try Fixture.parse(Fixture.yaml())
        #expect(config.redis.cluster == false)
        #expect(config.redis.shards == 1)
        #expect(config.redis.readShards.isEmpty)
        #expect(config.redis.assignedShards == [0])
        #expect(config.redis.shardStreamKey(0) == config.redis.streamKey)
        #expect(config.redis.deadConsumerMs == 3_600_000)
    }

    @Test("shards name hash-tagged streams; read_shards picks a subset in the given order")
    func shardKeys() throws {
        let config = try Fixture.parse(Fixture.yaml([
            "redis": ["cluster: true", "shards: 8", "read_shards: [5, 1, 7]", "dead_consumer_ms: 0"],
        ]))
        #expect(config.redis.cluster)
        #expect(config.redis.shards == 8)
        #expect(config.redis.assignedShards == [5, 1, 7])
        #expect(config.redis.shardStreamKey(5) == config.redis.streamKey + ":{5}")
        #expect(config.redis.deadConsumerMs == 0)
    }

    @Test("a shard outside 0..<shards, a repeated shard and a non-list are named errors")
    func badReadShards() {
        var issues = Fixture.issues(Fixture.yaml(["redis": ["shards: 4", "read_shards: [0, 4, 1, 1, -2, x]"]]))
        let paths = issues.map(\.path)
        #expect(paths.contains("redis.read_shards[1]"))
        #expect(paths.contains("redis.read_shards[3]"))
        #expect(paths.contains("redis.read_shards[4]"))
        #expect(paths.contains("redis.read_shards[5]"))
        #expect(!paths.contains("redis.read_shards[0]"))
        issues = Fixture.issues(Fixture.yaml(["redis": ["read_shards: 3"]]))
        #expect(Fixture.issue(at: "redis.read_shards", in: issues) != nil)
    }

    @Test("shards must be 1...1024")
    func shardRange() {
        for bad in ["0", "1025", "-1", "many"] {
            let issues = Fixture.issues(Fixture.yaml(["redis": ["shards: \(bad)"]]))
            #expect(Fixture.issue(at: "redis.shards", in: issues) != nil, "shards: \(bad)")
        }
    }

    @Test("a cluster has one database: redis.db other than 0 is refused with cluster: true")
    func clusterDatabase() {
        let issues = Fixture.issues(Fixture.yaml(["redis": ["cluster: true", "db: 3"]]))
        let issue = Fixture.issue(at: "redis.db", in: issues)
        #expect(issue?.description.contains("cluster") == true)
    }
}
