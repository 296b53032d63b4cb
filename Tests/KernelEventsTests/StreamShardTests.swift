import Testing
@testable import KernelEvents

@Suite("StreamShard")
struct StreamShardTests {
    /// The shard counts of the vector table, in column order.
    static let shardCounts = [2, 3, 4, 7, 16, 1000, 1024]

    /// Subject id → expected shard for each of `shardCounts`. Computed independently with Python,
    /// `int(uuid.UUID(id).hex, 16) % n`; examples/python/test_shard.py holds the same table.
    static let vectors: [(id: String, shards: [Int])] = [
        ("00000000-0000-0000-0000-000000000000", [0, 0, 0, 0, 0, 0, 0]),
        ("ffffffff-ffff-ffff-ffff-ffffffffffff", [1, 0, 3, 3, 15, 455, 1023]),
        ("00000000-0000-0000-0000-000000000001", [1, 1, 1, 1, 1, 1, 1]),
        ("0190f3c4-7b1e-7cc3-9d2a-5b8e1f0a4c21", [1, 0, 1, 1, 1, 433, 33]),
        ("3f1e2d4c-5b6a-4789-8c0d-1e2f3a4b5c6d", [1, 1, 1, 1, 13, 133, 109]),
        ("01936a52-8a4b-7d1c-b2e3-f4a5b6c7d8e9", [1, 0, 1, 2, 9, 321, 233]),
        ("c9bf9e57-1685-4c89-bafb-ff5af830be8a", [0, 2, 2, 1, 10, 146, 650]),
        ("7d444840-9dc0-11d1-b245-5ffdce74fad2", [0, 1, 2, 0, 2, 706, 722]),
        ("80000000-0000-0000-0000-000000000000", [0, 2, 0, 2, 0, 728, 0]),
        ("00000000-0000-0001-0000-000000000000", [0, 1, 0, 2, 0, 616, 0]),
    ]

    @Test("the fixed vectors (subject id as a 128-bit big-endian integer, mod N)")
    func fixedVectors() throws {
        for vector in Self.vectors {
            let id = try #require(EventUUID(vector.id))
            for (n, expected) in zip(Self.shardCounts, vector.shards) {
                #expect(StreamShard.index(subjectID: id, shards: n) == expected, "\(vector.id) mod \(n)")
                #expect(StreamShard.index(subjectID: vector.id, shards: n) == expected)
                #expect(StreamShard.index(subjectID: vector.id.uppercased(), shards: n) == expected)
            }
        }
    }

    @Test("one shard is always shard 0")
    func oneShard() throws {
        for vector in Self.vectors {
            #expect(StreamShard.index(subjectID: try #require(EventUUID(vector.id)), shards: 1) == 0)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let id = EventUUID(high: generator.next(), low: generator.next())
            #expect(StreamShard.index(subjectID: id, shards: 1) == 0)
        }
    }

    @Test("the shard is in 0..<N and agrees with the byte-by-byte rule of docs/producers.md")
    func rangeAndByteRule() {
        var generator = SystemRandomNumberGenerator()
        for n in [1, 2, 3, 5, 8, 13, 16, 100, 255, 256, 257, 1023, 1024] {
            for _ in 0..<300 {
                let id = EventUUID(high: generator.next(), low: generator.next())
                let shard = StreamShard.index(subjectID: id, shards: n)
                #expect((0..<n).contains(shard))
                let byteRule = id.bytes.reduce(0) { ($0 * 256 + Int($1)) % n }
                #expect(shard == byteRule, "\(id) mod \(n)")
            }
        }
    }

    @Test("an id that is not a canonical UUID has no shard")
    func badText() {
        #expect(StreamShard.index(subjectID: "not-a-uuid", shards: 4) == nil)
        #expect(StreamShard.index(subjectID: "0190f3c47b1e7cc39d2a5b8e1f0a4c21", shards: 4) == nil)
    }

    @Test("stream keys: the plain stream for one shard, a hash-tagged suffix otherwise")
    func streamKeys() throws {
        #expect(StreamShard.streamKey(base: "fdc:events", shard: 0, shards: 1) == "fdc:events")
        #expect(StreamShard.streamKey(base: "fdc:events", shard: 0, shards: 4) == "fdc:events:{0}")
        #expect(StreamShard.streamKey(base: "fdc:events", shard: 3, shards: 4) == "fdc:events:{3}")
        #expect(StreamShard.streamKey(base: "fdc:events", shard: 15, shards: 16) == "fdc:events:{15}")
        let id = try #require(EventUUID("c9bf9e57-1685-4c89-bafb-ff5af830be8a"))
        #expect(StreamShard.streamKey(base: "fdc:events", subjectID: id, shards: 16) == "fdc:events:{10}")
        #expect(StreamShard.streamKey(base: "fdc:events", subjectID: id, shards: 1) == "fdc:events")
    }
}
