import Foundation
import Testing
@testable import KernelRedis

/// The real Redis Cluster the cluster tests run against (`.ci/redis-cluster`), found through
/// KERNEL_REDIS_CLUSTER_ADDR or .run/cluster-env; started with `.ci/redis-cluster up` (once per
/// test process) when neither names a cluster that answers.
enum ClusterFixture {
    typealias Endpoint = RedisConnection.Endpoint

    struct Failure: Error, CustomStringConvertible { let description: String }

    static let seed: Result<Endpoint, Failure> = locate()

    static func seedEndpoint() throws -> Endpoint { try seed.get() }

    /// A cluster client with short timeouts (tests that block raise them).
    static func client(commandTimeoutMs: Int = 5000) throws -> RedisClusterClient {
        let settings = RedisSettings(endpoint: try seedEndpoint(), dialTimeoutMs: 2000, commandTimeoutMs: commandTimeoutMs, cluster: true)
        return try RedisClusterClient(settings: settings)
    }

    /// A plain connection to one node, bypassing all routing.
    static func admin(_ endpoint: Endpoint) throws -> RedisConnection {
        try RedisConnection(endpoint: endpoint, timeoutMs: 5000)
    }

    /// A random prefix so parallel runs and leftovers never collide.
    static func prefix() -> String { "t\(UInt32.random(in: 100_000...999_999))" }

    // MARK: - Topology, read from CLUSTER NODES on a node

    struct Node: Equatable {
        var id: String
        var endpoint: Endpoint
        var isMaster: Bool
        var masterId: String?
        var slots: [ClosedRange<Int>]
        var failed: Bool
        func owns(_ slot: Int) -> Bool { slots.contains { $0.contains(slot) } }
    }

    static func nodes(asking endpoint: Endpoint? = nil) throws -> [Node] {
        let admin = try admin(try endpoint ?? seedEndpoint())
        defer { admin.close() }
        guard let text = try admin.command(["CLUSTER", "NODES"]).text else { throw Failure(description: "CLUSTER NODES failed") }
        return text.split(separator: "\n").compactMap { line -> Node? in
            let f = line.split(separator: " ").map(String.init)
            guard f.count >= 8 else { return nil }
            let address = f[1].split(separator: "@").first.map(String.init) ?? f[1]
            guard let ep = Endpoint(address: address) else { return nil }
            let flags = f[2].split(separator: ",")
            let slots: [ClosedRange<Int>] = f.dropFirst(8).compactMap { s in
                if s.hasPrefix("[") { return nil }
                let parts = s.split(separator: "-").compactMap { Int($0) }
                if parts.count == 2 { return parts[0]...parts[1] }
                if parts.count == 1 { return parts[0]...parts[0] }
                return nil
            }
            return Node(id: f[0], endpoint: ep, isMaster: flags.contains("master"), masterId: f[3] == "-" ? nil : f[3],
                        slots: slots, failed: flags.contains("fail") || flags.contains("fail?"))
        }
    }

    static func owner(ofSlot slot: Int) throws -> Node {
        guard let n = try nodes().first(where: { $0.isMaster && $0.owns(slot) }) else {
            throw Failure(description: "no master owns slot \(slot)")
        }
        return n
    }

    /// Every node says cluster_state:ok and every slot is served.
    static func healthy() -> Bool {
        // Six nodes, each a master with slots or a replica (a demoted master is briefly neither).
        guard let all = try? nodes(), all.count == 6, all.filter({ $0.isMaster && !$0.slots.isEmpty }).count == 3,
              all.filter({ !$0.isMaster && $0.masterId != nil }).count == 3 else { return false }
        for n in all {
            guard let admin = try? admin(n.endpoint) else { return false }
            defer { admin.close() }
            guard let info = try? admin.command(["CLUSTER", "INFO"]).text,
                  info.contains("cluster_state:ok"), info.contains("cluster_slots_ok:16384") else { return false }
        }
        return true
    }

    /// Polls `condition` every 100 ms for at most `seconds`; returns whether it became true.
    @discardableResult
    static func wait(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    static func unwrap<T>(_ value: T?, _ what: @autoclosure () -> String) throws -> T {
        guard let value else { throw Failure(description: "missing: \(what())") }
        return value
    }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw Failure(description: message()) }
    }

    // MARK: - Finding the cluster

    private static func locate() -> Result<Endpoint, Failure> {
        if let found = configured(), answers(found) { return .success(found) }
        guard let root = repoRoot() else { return .failure(Failure(description: "repository root not found from \(#filePath)")) }
        // posix_spawn + waitpid rather than Foundation's Process, whose exit monitoring hung here
        // (the script's child left unreaped) when called off the main thread.
        let script = root + "/.ci/redis-cluster"
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(script), strdup("up"), nil]
        defer { for a in argv { free(a) } }
        let spawned = posix_spawn(&pid, script, nil, nil, argv, environ)
        guard spawned == 0 else { return .failure(Failure(description: "cannot run \(script): errno \(spawned)")) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { return .failure(Failure(description: ".ci/redis-cluster up failed (wait status \(status))")) }
        guard let found = configured(), answers(found) else {
            return .failure(Failure(description: ".ci/redis-cluster up ran but no cluster answers"))
        }
        return .success(found)
    }

    private static func configured() -> Endpoint? {
        if let addr = ProcessInfo.processInfo.environment["KERNEL_REDIS_CLUSTER_ADDR"], let ep = Endpoint(address: addr) { return ep }
        guard let root = repoRoot(), let text = try? String(contentsOfFile: root + "/.run/cluster-env", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.contains("KERNEL_REDIS_CLUSTER_ADDR=") {
            let value = line.split(separator: "=", maxSplits: 1).last.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) }
            if let value, let ep = Endpoint(address: value) { return ep }
        }
        return nil
    }

    private static func answers(_ endpoint: Endpoint) -> Bool {
        guard let c = try? RedisConnection(endpoint: endpoint, timeoutMs: 1000) else { return false }
        defer { c.close() }
        guard let info = try? c.command(["CLUSTER", "INFO"]).text else { return false }
        return info.contains("cluster_state:ok")
    }

    private static func repoRoot() -> String? {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir.path }
            dir.deleteLastPathComponent()
        }
        return nil
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
