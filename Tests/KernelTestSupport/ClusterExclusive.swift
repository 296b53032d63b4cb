import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Gives a suite the local Redis Cluster (`.ci/redis-cluster`) to itself for its whole run. All
/// test targets run in one process with suites in parallel, and the suites that migrate slots or
/// fail masters over would otherwise break the ones using the cluster at the same moment (a
/// producer's blocked XREAD got `UNBLOCKED … master -> replica` from another suite's failover).
/// An flock on `.run/cluster-tests.lock` also keeps two test processes apart. The wait polls and
/// sleeps instead of blocking, so waiting suites never hold the concurrency pool's threads.
/// (Shared by KernelRedisTests and IngestTests.)
public struct ClusterExclusive: SuiteTrait, TestScoping {
    public func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let root = Repository.root.path
        try? FileManager.default.createDirectory(atPath: root + "/.run", withIntermediateDirectories: true)
        let fd = open(root + "/.run/cluster-tests.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            Issue.record("cannot open \(root)/.run/cluster-tests.lock: errno \(errno)")
            return
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 { try await Task.sleep(nanoseconds: 100_000_000) }
        defer { flock(fd, LOCK_UN) }
        try await function()
    }
}

extension Trait where Self == ClusterExclusive {
    /// The local Redis Cluster belongs to this suite while it runs.
    public static var clusterExclusive: Self { Self() }
}
