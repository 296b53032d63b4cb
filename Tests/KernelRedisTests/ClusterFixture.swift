import Foundation
import Testing
@testable import KernelRedis
import KernelTestSupport

/// The real Redis Cluster the cluster tests run against (`.ci/redis-cluster`), found through
/// KERNEL_REDIS_CLUSTER_ADDR or .run/cluster-env; started with `.ci/redis-cluster up` (once per
/// test process) when neither names a cluster that answers.
enum ClusterFixture {
    typealias Endpoint = RedisConnection.Endpoint

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Located once per test process.
    static let seed: Result<Endpoint, Failure> = Result { () throws(LocalRedisCluster.Failure) in try LocalRedisCluster.seed() }
        .mapError { Failure(description: $0.description) }

    static func seedEndpoint() throws -> Endpoint { try seed.get() }

    /// A cluster client with short timeouts (tests that block raise them).
    static func client(commandTimeoutMs: Int = 5000) throws -> RedisClusterClient {
        let settings = RedisSettings(endpoint: try seedEndpoint(), dialTimeoutMs: 2000, commandTimeoutMs: commandTimeoutMs, cluster: true)
        return try RedisClusterClient(settings: settings)
    }

    /// A plain connection to one node, bypassing all routing.
    static func admin(_ endpoint: Endpoint) throws -> RedisConnection { try LocalRedisCluster.admin(endpoint) }

    /// A random prefix so parallel runs and leftovers never collide.
    static func prefix() -> String { "t\(UInt32.random(in: 100_000...999_999))" }

    // MARK: - Topology, read from CLUSTER NODES on a node (LocalRedisCluster, shared with IngestTests)

    typealias Node = LocalRedisCluster.Node

    static func nodes(asking endpoint: Endpoint? = nil) throws -> [Node] {
        try LocalRedisCluster.nodes(asking: try endpoint ?? seedEndpoint())
    }

    static func owner(ofSlot slot: Int) throws -> Node {
        try LocalRedisCluster.owner(ofSlot: slot, asking: try seedEndpoint())
    }

    static func healthy() -> Bool {
        guard let seed = try? seedEndpoint() else { return false }
        return LocalRedisCluster.healthy(asking: seed)
    }

    @discardableResult
    static func wait(seconds: Double, _ condition: () -> Bool) -> Bool { LocalRedisCluster.wait(seconds: seconds, condition) }

    static func unwrap<T>(_ value: T?, _ what: @autoclosure () -> String) throws -> T {
        guard let value else { throw Failure(description: "missing: \(what())") }
        return value
    }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw Failure(description: message()) }
    }
}

/// Runs blocking `body` (hiredis calls, waits) on its own OS thread, never on the Swift pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

extension RedisReply {
    var errorText: String? { if case .error(let e) = self { e } else { nil } }
}
