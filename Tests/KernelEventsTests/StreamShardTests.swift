import Foundation
import KernelTestSupport
import Testing
@testable import KernelEvents

@Suite("StreamShard")
struct StreamShardTests {
    /// Tests/Fixtures/shard/vectors.json: subject id → expected shard for each of `shardCounts`,
    /// computed independently with Python, `int(uuid.UUID(id).hex, 16) % n`;
    /// examples/python/test_shard.py checks the producer's side against the same file.
    struct VectorTable: Decodable {
        struct Vector: Decodable {
            let subjectID: String
            let shards: [Int]
            enum CodingKeys: String, CodingKey { case subjectID = "subject_id", shards }
        }
        let shardCounts: [Int]
        let vectors: [Vector]
        enum CodingKeys: String, CodingKey { case shardCounts = "shard_counts", vectors }
    }

    static func table() throws -> VectorTable {
        let url = Repository.root.appendingPathComponent("Tests/Fixtures/shard/vectors.json")
        let table = try JSONDecoder().decode(VectorTable.self, from: Data(contentsOf: url))
        #expect(table.vectors.count >= 10, "\(url.path) holds the vector table")
        #expect(table.vectors.allSatisfy { $0.shards.count == table.shardCounts.count }, "a shard for every count")
        return table
    }

    @Test("the fixed vectors (subject id as a 128-bit big-endian integer, mod N)")
    func fixedVectors() throws {
        let table = try Self.table()
        for vector in table.vectors {
            let id = try #require(EventUUID(vector.subjectID))
            for (n, expected) in zip(table.shardCounts, vector.shards) {
                #expect(StreamShard.index(subjectID: id, shards: n) == expected, "\(vector.subjectID) mod \(n)")
                #expect(StreamShard.index(subjectID: vector.subjectID, shards: n) == expected)
                #expect(StreamShard.index(subjectID: vector.subjectID.uppercased(), shards: n) == expected)
            }
        }
    }

    @Test("one shard is always shard 0")
    func oneShard() throws {
        for vector in try Self.table().vectors {
            #expect(StreamShard.index(subjectID: try #require(EventUUID(vector.subjectID)), shards: 1) == 0)
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
