import Foundation
import KernelAuth
import KernelConfig
import KernelCore
import KernelEvents
import KernelPostgres
import KernelRedis
import Logging

/// Where the bench runs: a fresh Postgres database (migrated), a fresh Redis key prefix and a
/// temporary directory with an issuer key made by ssh-keygen. One per scenario; `tearDown`
/// drops the database and deletes every key under the prefix.
final class BenchEnvironment {
    struct Settings {
        var repoRoot: String
        var pluginsDir: String
        var adminDSN: String
        var redisAddr: String
        var kernelBinary: String
        var writeConnections: Int
        /// `--set section.key=value` overrides for the kernel's config, in the order given.
        var overrides: [(section: String, key: String, value: String)] = []
        /// `--event-ids v7|random`.
        var eventIDs: EventIDStyle = .v7
        /// False for the generic scenario, whose plugins directory is empty on purpose; otherwise
        /// a kernel must have a plugin for every seeded family before a run starts.
        var requirePlugins = true
    }

    let settings: Settings
    let database: String
    let dsn: String
    let prefix: String
    let dir: String
    let pg: PGConnection
    let redis: RedisConnection
    let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
    private(set) var producer: EventUUID?
    private(set) var producerText = ""
    private(set) var schemas: [String: String] = [:]
    private(set) var subjects: [String: [EventUUIDText]] = [:]
    private(set) var token = ""

    var streamKey: String { prefix + "events" }
    var dlqKey: String { prefix + "events:dlq" }
    var logPath: String { logPath(kernel: 0) }
    /// Kernel `index`'s log (several kernels can share one environment).
    func logPath(kernel index: Int) -> String { dir + (index == 0 ? "/kernel.log" : "/kernel-\(index).log") }
    let group = "kernel"

    init(settings: Settings) throws {
        self.settings = settings
        var rng = SystemRandomNumberGenerator()
        let id = String(rng.next() & 0xFFFF_FFFF_FFFF, radix: 16)
        database = "dk_bench_\(id)"
        prefix = "bench\(id):"
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-bench-\(id)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let admin = try PGConnection(dsn: settings.adminDSN, logger: logger)
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(database)")
        guard var components = URLComponents(string: settings.adminDSN) else {
            throw BenchError("cannot parse the Postgres DSN \(settings.adminDSN) as a URL")
        }
        components.path = "/" + database
        dsn = components.string!
        pg = try PGConnection(dsn: dsn, logger: logger)
        _ = try Migrator(directory: settings.repoRoot + "/migrations", logger: logger).apply(on: pg)
        guard let endpoint = RedisConnection.Endpoint(address: settings.redisAddr) else {
            throw BenchError("bad Redis address \(settings.redisAddr)")
        }
        redis = try RedisConnection(endpoint: endpoint, timeoutMs: 30_000)
        try Shell.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench-issuer", "-f", dir + "/issuer"])
        // A producer CA the kernel can read (no producer registers during the bench; without a
        // readable CA the kernel logs an error at start-up, which would mark the run unclean).
        try Shell.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench-producer-ca", "-f", dir + "/producer_ca"])
    }

    /// A fresh environment for `settings`, torn down when `body` returns.
    static func with(_ settings: Settings, _ body: (BenchEnvironment) throws -> Void) throws {
        let env = try BenchEnvironment(settings: settings)
        defer { env.tearDown() }
        try body(env)
    }

    /// Drops the database, deletes the keys, removes the directory.
    func tearDown() {
        pg.close()
        var cursor = "0"
        repeat {
            guard let reply = try? redis.command(["SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"]).array,
                  reply.count == 2 else { break }
            cursor = reply[0].text ?? "0"
            for key in reply[1].array ?? [] { if let k = key.text { _ = try? redis.command(["UNLINK", k]) } }
        } while cursor != "0"
        redis.close()
        if let admin = try? PGConnection(dsn: settings.adminDSN, logger: logger) {
            try? admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            admin.close()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The kernel's config: every performance-relevant key at its default except
    /// `postgres.write_connections`; logs at info to a file. Kernel `index` gets its own
    /// consumer name (`bench-<index>`), log file and spill directory, so several kernels can
    /// share the database, the prefix and the consumer group.
    func yaml(kernel index: Int = 0) -> String {
        Self.apply(settings.overrides, to: baseYAML(kernel: index))
    }

    /// Sets `key` under top-level `section` (replacing the line if the key is there, adding the
    /// section if it is not). The bench's YAML is flat two-level, so lines suffice.
    static func apply(_ overrides: [(section: String, key: String, value: String)], to yaml: String) -> String {
        var lines = yaml.components(separatedBy: "\n")
        for o in overrides {
            guard let header = lines.firstIndex(of: o.section + ":") else {
                lines.insert(contentsOf: [o.section + ":", "  \(o.key): \(o.value)"], at: max(0, lines.count - 1))
                continue
            }
            var end = header + 1
            while end < lines.count, lines[end].hasPrefix("  ") { end += 1 }
            if let at = lines[(header + 1)..<end].firstIndex(where: { $0.hasPrefix("  \(o.key):") }) {
                lines[at] = "  \(o.key): \(o.value)"
            } else {
                lines.insert("  \(o.key): \(o.value)", at: end)
            }
        }
        return lines.joined(separator: "\n")
    }

    private func baseYAML(kernel index: Int) -> String {
        """
        server:
          listen: "127.0.0.1:0"
        postgres:
          dsn: "\(dsn)"
          apply_migrations: true
          migrations_dir: "\(settings.repoRoot)/migrations"
          write_connections: \(settings.writeConnections)
        redis:
          addr: "\(settings.redisAddr)"
          key_prefix: "\(prefix)"
          stream: "events"
          consumer_name: "bench-\(index)"
        logging:
          level: info
          output: "\(logPath(kernel: index))"
        auth:
          issuer: "bench-issuer"
          audience: "bench-audience"
          key_id: "bench-1"
          private_key_file: "\(dir)/issuer"
          producer_ssh_ca: "\(dir)/producer_ca.pub"
        plugins:
          dir: "\(settings.pluginsDir)"
        spill:
          dir: "\(dir)/spill\(index == 0 ? "" : "-\(index)")"

        """
    }

    func configFile(kernel index: Int = 0) throws -> String {
        let path = dir + (index == 0 ? "/kernel.yaml" : "/kernel-\(index).yaml")
        try yaml(kernel: index).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// One producer bound to one subject per (family, symbol), each family's schema at version
    /// 1, and a token for the producer recorded as `kernel token issue` would.
    func seed(families: [String]) throws {
        let p = try pg.query("INSERT INTO producers (name) VALUES ('bench-producer') RETURNING producer_id::text")
        producerText = p.scalar!
        producer = EventUUID(producerText)
        for family in ["trade", "quote", "book"] {
            let s = try pg.query("""
                INSERT INTO schemas (name, version, body) VALUES ($1, 1, '{}'::jsonb)
                ON CONFLICT (name, version) DO UPDATE SET name = EXCLUDED.name RETURNING schema_id::text
                """, [family])
            schemas[family] = s.scalar!
            guard families.contains(family) else { continue }
            var list: [EventUUIDText] = []
            for symbol in MarketEventFactory.symbols {
                let r = try pg.query("""
                    INSERT INTO subjects (subject_key, current_schema_id) VALUES ($1, $2::uuid) RETURNING subject_id::text
                    """, ["XNAS.\(symbol).\(family)", schemas[family]!])
                let text = r.scalar!
                _ = try pg.query("INSERT INTO producer_subjects (producer_id, subject_id) VALUES ($1::uuid, $2::uuid)",
                                 [producerText, text])
                list.append(EventUUIDText(text: text, bytes: EventUUID(text)!.bytes))
            }
            subjects[family] = list
        }
        let config = try KernelConfig.parse(yaml: yaml())
        let issuer = try TokenIssuer(settings: config.authSettings)
        let now = Int64(Date().timeIntervalSince1970)
        let issued = issuer.issue(producer: producer!, subject: nil, fingerprint: nil, ttlSeconds: 6 * 3600, nowSeconds: now)
        _ = try pg.query("""
            INSERT INTO producer_tokens (producer_id, jti, expires_at, notes)
            VALUES ($1::uuid, $2, to_timestamp($3::bigint), 'bench')
            """, [producerText, issued.jti, String(issued.expiresAt)])
        token = issued.token
    }

    /// Creates the consumer group at 0-0 (as the kernel does) so the stream exists before loading.
    func createGroup() throws {
        let reply = try redis.command(["XGROUP", "CREATE", streamKey, group, "0-0", "MKSTREAM"])
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") { throw BenchError("XGROUP CREATE: \(message)") }
    }

    /// Moves the group's last-delivered id to the end of the stream, so kernels started now
    /// find nothing to read until `releaseGroup` (several kernels then start draining together).
    func holdGroup(entries: Int) throws {
        let reply = try redis.command(["XGROUP", "SETID", streamKey, group, "$", "ENTRIESREAD", String(entries)])
        if case .error(let message) = reply { throw BenchError("XGROUP SETID $: \(message)") }
    }

    /// Rewinds the group to the start of the stream (as created), after `holdGroup`.
    func releaseGroup() throws {
        let reply = try redis.command(["XGROUP", "SETID", streamKey, group, "0-0", "ENTRIESREAD", "0"])
        if case .error(let message) = reply { throw BenchError("XGROUP SETID 0-0: \(message)") }
    }

    func count(_ sql: String) throws -> Int { Int(try pg.query(sql).scalar ?? "0") ?? 0 }

    /// CPU ticks of the Postgres backends connected to this database (the kernel's connections;
    /// not the bench's own).
    func backendTicks() throws -> Int {
        try backendTicksByPID().values.reduce(0, +)
    }

    /// The same per backend, so a later sample can subtract an earlier one backend by backend.
    func backendTicksByPID() throws -> [Int32: Int] {
        let r = try pg.query("""
            SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            """)
        var ticks: [Int32: Int] = [:]
        for pid in r.rows.compactMap({ $0[0].flatMap { Int32($0) } }) { ticks[pid] = ProcStat.cpuTicks(pid: pid) }
        return ticks.compactMapValues { $0 }
    }

    /// Rows in `table`, 0 when the table does not exist (its plugin was not loaded).
    func rows(in table: String) throws -> Int {
        guard try pg.query("SELECT to_regclass($1) IS NOT NULL", [table]).scalar == "t" else { return 0 }
        return try count("SELECT count(*) FROM \(try pg.quoteIdentifier(table))")
    }

    func streamLength(_ key: String) throws -> Int { Int(try redis.command(["XLEN", key]).integer ?? 0) }

    /// Starts `kernel run` on this environment's config (kernel `index`: see `yaml`).
    func startKernel(index: Int = 0) throws -> KernelProcess {
        var environment = ProcessInfo.processInfo.environment
        // The env overrides win over the YAML: point them at this run's database and Redis, or
        // the kernel would write into the shared development database.
        environment["KERNEL_PG_DSN"] = dsn
        environment["KERNEL_REDIS_ADDR"] = settings.redisAddr
        environment.removeValue(forKey: "KERNEL_PG_DSN_FILE")
        return try KernelProcess.start(binary: settings.kernelBinary, arguments: ["run", "--config", try configFile(kernel: index)],
                                       environment: environment, logPath: logPath(kernel: index),
                                       requiredFamilies: settings.requirePlugins ? subjects.keys.sorted() : [],
                                       pluginsDir: settings.pluginsDir)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

enum Shell {
    static func run(_ tool: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchError("\(tool) \(args.joined(separator: " ")) exited \(p.terminationStatus)") }
    }

    /// Output of a command, trimmed; nil when it fails.
    static func output(_ tool: String, _ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
