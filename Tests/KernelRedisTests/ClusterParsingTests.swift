import KernelTestSupport
import Testing
@testable import KernelRedis

/// The pure parts of the cluster client: slot hashing, key extraction, and the parsers of what
/// nodes send (hostile input must end in an error, never a trap).
@Suite struct ClusterParsingTests {
    typealias Endpoint = RedisConnection.Endpoint

    // MARK: - Slots

    @Test func crc16MatchesTheXmodemCheckValue() {
        #expect(ClusterSlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
        #expect(ClusterSlot.of("123456789") == 0x31C3 % 16384)
    }

    @Test func hashTagRule() {
        #expect(ClusterSlot.of("{user1000}.following") == ClusterSlot.of("{user1000}.followers"))
        #expect(ClusterSlot.of("{user1000}.following") == ClusterSlot.of("user1000"))
        #expect(ClusterSlot.of("{a}{b}") == ClusterSlot.of("a"))
        #expect(ClusterSlot.hashTag(Array("{}".utf8)) == Array("{}".utf8)[...])
        #expect(ClusterSlot.hashTag(Array("a{".utf8)) == Array("a{".utf8)[...])
        #expect(ClusterSlot.hashTag(Array("foo{}{bar}".utf8)) == Array("foo{}{bar}".utf8)[...])
        #expect(ClusterSlot.hashTag(Array("foo{{bar}}zap".utf8)) == Array("{bar".utf8)[...])
        #expect(ClusterSlot.of("") == 0)
    }

    // MARK: - Routing keys

    private func keys(_ args: [String]) -> [String] {
        ClusterRoute.keys(of: args.map { Array($0.utf8) }).map { String(decoding: $0, as: UTF8.self) }
    }

    private func route(_ args: [String]) throws(RedisError) -> ClusterRoute {
        try ClusterRoute.of(args.map { Array($0.utf8) })
    }

    @Test func keysOfTheCommandsTheKernelSends() throws {
        #expect(keys(["XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "BLOCK", "5", "STREAMS", "s{1}", "t{1}", ">", ">"]) == ["s{1}", "t{1}"])
        #expect(keys(["xread", "count", "1", "streams", "a", "0"]) == ["a"])
        #expect(keys(["XGROUP", "CREATE", "k", "g", "$", "MKSTREAM"]) == ["k"])
        #expect(keys(["XINFO", "STREAM", "k"]) == ["k"])
        #expect(keys(["EVALSHA", "abc", "2", "k1", "k2", "arg"]) == ["k1", "k2"])
        #expect(keys(["EVAL", "return 1", "1", "k", "a", "b"]) == ["k"])
        #expect(keys(["XADD", "s", "*", "f", "v"]) == ["s"])
        #expect(keys(["XACK", "s", "g", "1-0"]) == ["s"])
        #expect(keys(["DEL", "a", "b"]) == ["a", "b"])
        #expect(keys(["MSET", "a", "1", "b", "2"]) == ["a", "b"])
        #expect(try route(["PING"]) == .anyNode)
        #expect(try route(["SCRIPT", "LOAD", "return 1"]) == .anyNode)
        #expect(try route(["EVAL", "return 1", "0"]) == .anyNode)
        #expect(try route(["EVAL", "return 1", "nonsense"]) == .anyNode)
        #expect(try route(["XGROUP", "HELP"]) == .anyNode)
        #expect(try route(["CLUSTER", "SLOTS"]) == .anyNode)
        #expect(try route(["XREADGROUP", "GROUP", "g", "c", "STREAMS"]) == .anyNode)
        #expect(try route(["GET", "{x}a"]) == .slot(ClusterSlot.of("x")))
        #expect(try route(["DEL", "{x}a", "{x}b"]) == .slot(ClusterSlot.of("x")))
    }

    @Test func keysInDifferentSlotsAreRefusedLocally() {
        for args in [["DEL", "{a}1", "{b}1"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "{a}s", "{b}s", ">", ">"],
                     ["EVAL", "return 1", "2", "{a}1", "{b}1"], ["MSET", "{a}1", "x", "{b}1", "y"]] {
            let error = #expect(throws: RedisError.self, "\(args) was routed") { try route(args) }
            #expect(error?.kind == .reply)
            #expect(error?.message.hasPrefix("CROSSSLOT") == true)
            #expect(error?.isConnectionLost == false)
        }
    }

    // MARK: - MOVED / ASK

    @Test func redirectionsParse() throws {
        #expect(try ClusterRedirect.parse("MOVED 3999 127.0.0.1:6381", askedHost: "h") == .moved(slot: 3999, to: Endpoint(host: "127.0.0.1", port: 6381)))
        #expect(try ClusterRedirect.parse("ASK 0 10.0.0.2:7000", askedHost: "h") == .ask(slot: 0, to: Endpoint(host: "10.0.0.2", port: 7000)))
        #expect(try ClusterRedirect.parse("MOVED 16383 :7001", askedHost: "10.1.1.1") == .moved(slot: 16383, to: Endpoint(host: "10.1.1.1", port: 7001)))
        #expect(try ClusterRedirect.parse("MOVED 5 ::1:7002", askedHost: "h") == .moved(slot: 5, to: Endpoint(host: "::1", port: 7002)))
        #expect(try ClusterRedirect.parse("MOVED 5 [fe80::1]:7002", askedHost: "h") == .moved(slot: 5, to: Endpoint(host: "fe80::1", port: 7002)))
        #expect(try ClusterRedirect.parse("TRYAGAIN Multiple keys request during rehashing of slot", askedHost: "h") == .tryAgain)
        #expect(try ClusterRedirect.parse("CLUSTERDOWN The cluster is down", askedHost: "h") == .clusterDown)
        #expect(try ClusterRedirect.parse("ERR wrong number of arguments", askedHost: "h") == nil)
        #expect(try ClusterRedirect.parse("NOSCRIPT No matching script", askedHost: "h") == nil)
        #expect(try ClusterRedirect.parse("", askedHost: "h") == nil)
        #expect(try ClusterRedirect.parse("MOVEDX 1 h:1", askedHost: "h") == nil)
    }

    @Test(arguments: [
        "MOVED", "MOVED ", "ASK", "MOVED 3999", "MOVED 3999 ", "MOVED x 127.0.0.1:1", "MOVED 16384 h:1", "MOVED -1 h:1",
        "MOVED 99999999999999999999999 h:1", "MOVED 1 host", "MOVED 1 host:0", "MOVED 1 host:70000", "MOVED 1 host:-5",
        "MOVED 1 host:abc", "MOVED 1 :", "MOVED 1 host:", "ASK 1 h:1 extra", "MOVED 1 h:99999999999999999999",
        "ASK +1 h:1", "MOVED 0x10 h:1", "MOVED 1 h:+80", "MOVED 1 [::1", "ASK 1 :",
    ])
    func malformedRedirectionsAreErrors(text: String) {
        let error = #expect(throws: RedisError.self, "\(text)") { try ClusterRedirect.parse(text, askedHost: "") }
        #expect(error?.kind == .protocolError)
    }

    // MARK: - CLUSTER SLOTS

    private func node(_ host: RedisReply, _ port: Int64, id: String = "id") -> RedisReply {
        .array([host, .integer(port), .string(Array(id.utf8))])
    }

    @Test func clusterSlotsParses() throws {
        let reply = RedisReply.array([
            .array([.integer(0), .integer(5460), node(.string(Array("10.0.0.1".utf8)), 7000), node(.string(Array("10.0.0.4".utf8)), 7003)]),
            .array([.integer(5461), .integer(10922), node(.string([]), 7001)]),
            .array([.integer(10923), .integer(16383), node(.null, 7002), node(.string(Array("10.0.0.6".utf8)), 7005)]),
        ])
        let map = try ClusterSlotMap.parse(reply, askedHost: "10.9.9.9")
        #expect(map.owner(of: 0) == Endpoint(host: "10.0.0.1", port: 7000))
        #expect(map.owner(of: 5460) == Endpoint(host: "10.0.0.1", port: 7000))
        #expect(map.owner(of: 5461) == Endpoint(host: "10.9.9.9", port: 7001))
        #expect(map.owner(of: 16383) == Endpoint(host: "10.9.9.9", port: 7002))
        #expect(map.owner(of: 16384) == nil)
        #expect(map.owner(of: -1) == nil)
        #expect(map.masters.count == 3)
        #expect(map.nodes.count == 5)
    }

    @Test func partialCoverageLeavesSlotsUnowned() throws {
        let map = try ClusterSlotMap.parse(.array([.array([.integer(100), .integer(100), node(.string(Array("h".utf8)), 1)])]), askedHost: "x")
        #expect(map.owner(of: 100) == Endpoint(host: "h", port: 1))
        #expect(map.owner(of: 99) == nil)
        #expect(try ClusterSlotMap.parse(.array([]), askedHost: "x").masters.isEmpty)
    }

    @Test(arguments: ClusterParsingTests.hostileSlots)
    func malformedClusterSlotsAreErrors(reply: RedisReply) {
        let error = #expect(throws: RedisError.self) { try ClusterSlotMap.parse(reply, askedHost: "127.0.0.1").masters }
        #expect(error?.kind == .protocolError)
    }

    static let hostileSlots: [RedisReply] = {
        let h = RedisReply.string(Array("127.0.0.1".utf8))
        func n(_ host: RedisReply = h, _ port: RedisReply = .integer(7000)) -> RedisReply { .array([host, port]) }
        func r(_ a: RedisReply, _ b: RedisReply, _ nodes: RedisReply...) -> RedisReply { .array([a, b] + nodes) }
        return [
            .integer(1), .null, .error("ERR cluster support disabled"), .string(Array("x".utf8)),
            .array([.integer(1)]), .array([.null]), .array([.array([])]),
            .array([.array([.integer(0), .integer(10)])]),                                  // no node
            .array([r(.string(Array("0".utf8)), .integer(10), n())]),                       // bound is a string
            .array([r(.integer(0), .status("10"), n())]),
            .array([r(.integer(10), .integer(5), n())]),                                    // start > end
            .array([r(.integer(0), .integer(16384), n())]),                                 // out of range
            .array([r(.integer(-1), .integer(5), n())]),
            .array([r(.integer(Int64.min), .integer(Int64.max), n())]),
            .array([r(.integer(0), .integer(5), .array([h]))]),                             // node too short
            .array([r(.integer(0), .integer(5), .integer(7000))]),                          // node not an array
            .array([r(.integer(0), .integer(5), n(h, .integer(0)))]),                      // bad ports
            .array([r(.integer(0), .integer(5), n(h, .integer(65536)))]),
            .array([r(.integer(0), .integer(5), n(h, .integer(-7000)))]),
            .array([r(.integer(0), .integer(5), n(h, .string(Array("7000".utf8))))]),
            .array([r(.integer(0), .integer(5), n(.integer(1), .integer(7000)))]),         // host not a string
            .array([r(.integer(0), .integer(5), n(.array([h]), .integer(7000)))]),
            .array([r(.integer(0), .integer(5), n()), r(.integer(5), .integer(9), n())]),  // overlap
            .array([r(.integer(0), .integer(5), n(), .integer(3))]),                        // bad replica
            .array([r(.integer(0), .integer(5), n(.string([0x61, 0x00, 0x62]), .integer(1)))]),
        ]
    }()

    /// Random reply trees, biased towards almost-valid CLUSTER SLOTS shapes: parsing either
    /// succeeds with sane owners or throws; it never traps.
    @Test func randomRepliesNeverTrap() {
        var rng = SplitMix64(seed: 0xC1_05_7E_2)
        var parsed = 0, refused = 0
        for _ in 0..<3000 {
            let reply = RedisReply.array((0..<Int(rng.next() % 4)).map { _ in Self.randomRange(&rng) })
            do {
                let map = try ClusterSlotMap.parse(reply, askedHost: "127.0.0.1")
                for m in map.masters { #expect((1...65535).contains(m.port)) }
                parsed += 1
            } catch {
                #expect(error.kind == .protocolError)
                refused += 1
            }
        }
        #expect(parsed > 0 && refused > 0)
    }

    private static func randomRange(_ rng: inout SplitMix64) -> RedisReply {
        let ints: [Int64] = [0, 1, 5, 100, 5460, 16383, 16384, -1, Int64.max, 7000, 65535, 65536]
        func int() -> RedisReply { .integer(ints[Int(rng.next() % UInt64(ints.count))]) }
        func leaf() -> RedisReply {
            switch rng.next() % 6 {
            case 0: .null
            case 1: .string(Array("127.0.0.1".utf8))
            case 2: .string([])
            case 3: .status("x")
            default: int()
            }
        }
        func node() -> RedisReply {
            rng.next() % 5 == 0 ? leaf() : .array((0..<Int(rng.next() % 4)).map { i in i == 0 ? leaf() : int() })
        }
        if rng.next() % 8 == 0 { return leaf() }
        return .array([int(), int()] + (0..<Int(rng.next() % 3)).map { _ in node() })
    }
}
