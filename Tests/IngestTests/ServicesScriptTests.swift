import Foundation
import Testing
import KernelTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `.ci/services` stops what it started: `up` on chosen ports, then `down` without the port
/// variables. Run on a copy of the script in a scratch root, so its `.run/` is not the one the
/// other tests use.
@Suite("The local services script", .serialized)
struct ServicesScriptTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server"),
                   "redis-server is not installed"))
    func downStopsWhatUpStartedWithoutThePortVariables() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dk-services-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root + "/.ci", withIntermediateDirectories: true)
        // The postgres user (initdb refuses root) must reach the data directory under it.
        chmod(root, 0o755)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.copyItem(atPath: IngestHarness.repoRoot + "/.ci/services", toPath: root + "/.ci/services")
        let redisPort = try LoopbackPort.free(), pgPort = try LoopbackPort.free()

        let up = try script(root, ["up"], ports: (redisPort, pgPort))
        #expect(up.status == 0, "\(up.output)")
        var stopped = false
        defer { if !stopped { _ = try? script(root, ["down"], ports: (redisPort, pgPort)) } }
        #expect(listening(redisPort) && listening(pgPort), "\(up.output)")
        let remembered = try String(contentsOfFile: root + "/.run/ports", encoding: .utf8)
        #expect(remembered == "redis=\(redisPort)\npostgres=\(pgPort)\n")
        let env = try script(root, ["env"], ports: nil)
        #expect(env.output.contains("127.0.0.1:\(redisPort)") && env.output.contains("127.0.0.1:\(pgPort)/"))

        let down = try script(root, ["down"], ports: nil)
        stopped = true
        #expect(down.status == 0, "\(down.output)")
        #expect(!listening(redisPort), "redis on \(redisPort) stopped")
        #expect(!listening(pgPort), "postgres on \(pgPort) stopped")
    }

    /// Runs the copied script; `ports` sets DK_REDIS_PORT and DK_PG_PORT, nil clears them.
    /// `system(3)`, not Foundation's Process: the daemonized Redis and Postgres inherit the
    /// descriptors Process watches for the child's exit, and its wait hangs.
    func script(_ root: String, _ arguments: [String], ports: (redis: Int, pg: Int)?) throws -> (status: Int32, output: String) {
        let variables = ports.map { "DK_REDIS_PORT=\($0.redis) DK_PG_PORT=\($0.pg)" } ?? "-u DK_REDIS_PORT -u DK_PG_PORT"
        let log = root + "/services.out"
        let status = system("env \(variables) /bin/bash '\(root)/.ci/services' \(arguments.joined(separator: " ")) >'\(log)' 2>&1 </dev/null")
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (status, output)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`. `down` waits for both
    /// servers to exit (redis SHUTDOWN answers after it stopped listening; pg_ctl stop waits).
    func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
