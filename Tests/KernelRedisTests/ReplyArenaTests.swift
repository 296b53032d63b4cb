import Foundation
import KernelRedis
import Testing

/// Every reply type read through the connection's reply arena (CHiredis/shim.h) against the
/// real Redis: nils of both kinds, statuses, errors, integers, nested arrays, and replies large
/// enough to make the arena grow past its first chunk and past the size it keeps.
@Suite("Redis replies built in the reply arena")
struct ReplyArenaTests {
    static let addr = ProcessInfo.processInfo.environment["KERNEL_REDIS_ADDR"] ?? "127.0.0.1:16379"

    func connect() throws -> RedisConnection {
        try RedisConnection(endpoint: RedisConnection.Endpoint(address: Self.addr)!, timeoutMs: 5000)
    }

    func key(_ name: String) -> String { "dk-test:arena:\(UUID().uuidString):\(name)" }

    @Test("nil bulk and nil array replies are nil, not empty strings or arrays")
    func nils() throws {
        let redis = try connect()
        #expect(try redis.command(["GET", key("missing")]) == .null)
        let stream = key("stream")
        #expect(try redis.command(["XGROUP", "CREATE", stream, "g", "$", "MKSTREAM"]) == .status("OK"))
        // An XREADGROUP that finds nothing answers *-1.
        #expect(try redis.command(["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", stream, ">"]) == .null)
        // SET NX on an existing key answers $-1, the reply the nonce guard relies on.
        let k = key("nx")
        #expect(try redis.command(["SET", k, "v", "NX"]) == .status("OK"))
        #expect(try redis.command(["SET", k, "v", "NX"]) == .null)
        _ = try redis.command(["DEL", stream, k])
    }

    @Test("statuses, errors, integers, binary strings and nested arrays in one pipeline")
    func mixedPipeline() throws {
        let redis = try connect()
        let list = key("list"), bin = key("bin")
        let binary: [UInt8] = [0, 1, 2, 0xFF, 0x0D, 0x0A, 0]
        let replies = try redis.pipeline([
            [Array("PING".utf8)],
            [Array("SET".utf8), Array(bin.utf8), binary],
            [Array("GET".utf8), Array(bin.utf8)],
            [Array("RPUSH".utf8), Array(list.utf8), Array("a".utf8), [], Array("c".utf8)],
            [Array("LRANGE".utf8), Array(list.utf8), Array("0".utf8), Array("-1".utf8)],
            [Array("NOSUCHCOMMAND".utf8)],
            [Array("EVAL".utf8), Array("return {1, {'x', {2, false}}, 'y'}".utf8), Array("0".utf8)],
            [Array("DEL".utf8), Array(list.utf8), Array(bin.utf8)],
        ])
        #expect(replies.count == 8)
        #expect(replies[0] == .status("PONG"))
        #expect(replies[1] == .status("OK"))
        #expect(replies[2] == .string(binary))
        #expect(replies[3] == .integer(3))
        #expect(replies[4] == .array([.string(Array("a".utf8)), .string([]), .string(Array("c".utf8))]))
        if case .error(let message) = replies[5] { #expect(message.contains("unknown command")) } else {
            Issue.record("expected an error reply, got \(replies[5])")
        }
        #expect(replies[6] == .array([.integer(1), .array([.string(Array("x".utf8)), .array([.integer(2), .null])]),
                                      .string(Array("y".utf8))]))
        #expect(replies[7] == .integer(2))
    }

    @Test("replies larger than the first chunk and than the kept size, then small ones again")
    func largeReplies() throws {
        let redis = try connect()
        let k = key("big"), list = key("many")
        for size in [100, 70_000, 5_000_000, 10] {
            let value = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            #expect(try redis.command([Array("SET".utf8), Array(k.utf8), value]) == .status("OK"))
            #expect(try redis.command([Array("GET".utf8), Array(k.utf8)]) == .string(value))
        }
        // 20,000 elements: one array whose element vector and items span several chunks.
        var push: [[UInt8]] = [Array("RPUSH".utf8), Array(list.utf8)]
        for i in 0..<20_000 { push.append(Array("item-\(i)".utf8)) }
        #expect(try redis.command(push) == .integer(20_000))
        guard case .array(let items) = try redis.command(["LRANGE", list, "0", "-1"]) else {
            Issue.record("LRANGE did not answer an array")
            return
        }
        #expect(items.count == 20_000)
        #expect(items.first == .string(Array("item-0".utf8)))
        #expect(items.last == .string(Array("item-19999".utf8)))
        #expect(items[12_345] == .string(Array("item-12345".utf8)))
        _ = try redis.command(["DEL", k, list])
    }
}
