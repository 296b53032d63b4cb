import Foundation
import KernelTestSupport

/// A Postgres cluster of the test's own, on a free loopback port, that the test may stop and
/// start (`pg_ctl stop -m immediate` is a Postgres outage). The shared test server cannot be
/// stopped: other tests run against it in parallel.
///
/// initdb refuses to run as root (docs/platform-notes.md, "Postgres and the test scripts"), so as root the cluster runs as `postgres` in a
/// directory it owns under /tmp.
final class PrivatePostgres: @unchecked Sendable {
    let port: Int
    let dataDir: String
    let bin: String
    let asRoot = getuid() == 0

    /// The superuser DSN of the cluster's `postgres` database (for IngestHarness's adminDSN).
    var adminDSN: String { "postgres://kernel@127.0.0.1:\(port)/postgres?sslmode=disable" }

    /// `extraConfig`: lines added to postgresql.conf; `files`: copied into the data directory
    /// (name → source path), owned by the server's user and readable by it alone, as Postgres
    /// wants its TLS key.
    init(extraConfig: String = "", files: [String: String] = [:]) throws {
        bin = try Self.binDir()
        port = try LoopbackPort.free()
        dataDir = "/tmp/dk-pg-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        if asRoot { try shell("chown postgres:postgres '\(dataDir)'") }
        try asPostgres("'\(bin)/initdb' -D '\(dataDir)' -U kernel --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null")
        let conf = """
        listen_addresses = '127.0.0.1'
        port = \(port)
        unix_socket_directories = '\(dataDir)'
        max_connections = 50
        shared_buffers = 32MB
        fsync = off
        synchronous_commit = on
        \(extraConfig)

        """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDir + "/postgresql.conf"))
        handle.seekToEndOfFile()
        handle.write(conf.data(using: .utf8)!)
        try handle.close()
        for (name, source) in files {
            let target = dataDir + "/" + name
            try FileManager.default.copyItem(atPath: source, toPath: target)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
            if asRoot { try shell("chown postgres:postgres '\(target)'") }
        }
        try start()
    }

    func start() throws {
        try asPostgres("'\(bin)/pg_ctl' -D '\(dataDir)' -l '\(dataDir)/server.log' -w -t 60 start >/dev/null")
    }

    /// Stops the server the hard way: no checkpoint, connections cut (what a crash or an
    /// operator's emergency stop looks like to the kernel).
    func stopImmediate() throws {
        try asPostgres("'\(bin)/pg_ctl' -D '\(dataDir)' -m immediate -w stop >/dev/null")
    }

    func destroy() {
        try? asPostgres("'\(bin)/pg_ctl' -D '\(dataDir)' -m immediate -w stop >/dev/null 2>&1")
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    private func asPostgres(_ command: String) throws {
        if asRoot {
            try shell("su postgres -s /bin/sh -c \"\(command.replacingOccurrences(of: "\"", with: "\\\""))\"")
        } else {
            try shell(command)
        }
    }

    /// Runs `command` with /bin/sh and waits for it. `system(3)`, not Foundation's Process: pg_ctl
    /// leaves a daemon holding descriptors it inherited, and Process.waitUntilExit was seen to
    /// hang on that.
    private func shell(_ command: String) throws {
        let status = system(command)
        guard status == 0 else { throw HarnessError(message: "`\(command)` exited with status \(status)") }
    }

    static func binDir() throws -> String {
        if let dir = ProcessInfo.processInfo.environment["DK_PG_BINDIR"], FileManager.default.fileExists(atPath: dir + "/initdb") {
            return dir
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap(Int.init).sorted()
        for v in versions.reversed() where FileManager.default.fileExists(atPath: "/usr/lib/postgresql/\(v)/bin/initdb") {
            return "/usr/lib/postgresql/\(v)/bin"
        }
        throw HarnessError(message: "no Postgres server binaries (initdb) found; install postgresql")
    }

}
