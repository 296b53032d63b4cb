import Foundation
import KernelAuth
import KernelConfig
import KernelCore
import KernelEvents
import KernelPostgres
import KernelRedis
import KernelTestSupport
import Logging
import Testing

/// A real kernel environment for one test: a fresh Postgres database (migrated), a fresh Redis
/// key prefix, an issuer key made by ssh-keygen, the example plugins built by `make test`, and
/// helpers to seed producers/subjects, mint tokens, publish events and read what landed.
final class IngestHarness: @unchecked Sendable {
    static let repoRoot = Repository.root.path
    static var adminDSN: String { TestDatabase.adminDSN }
    static var redisAddr: String { TestDatabase.redisAddr }
    static var pluginsDir: String {
        ProcessInfo.processInfo.environment["DK_TEST_PLUGINS_DIR"] ?? repoRoot + "/.build/test-plugins"
    }
    static var kernelBinary: String {
        ProcessInfo.processInfo.environment["DK_KERNEL_BIN"] ?? repoRoot + "/.build/debug/kernel"
    }

    /// A producer bound to a subject, the subject's schema, and a token of the producer.
    typealias BoundProducer = (producer: EventUUID, subject: EventUUID, schema: EventUUID, token: String)

    let database: String
    let dsn: String
    /// The server the test database lives on (the shared one, or a PrivatePostgres).
    let serverDSN: String
    let prefix: String
    let dir: String
    /// Silent unless DK_TEST_LOG=1 (then kernel log lines go to stderr).
    let logger = TestDatabase.harnessLogger(label: "ingest-test")
    private(set) var pg: PGConnection
    let redis: RedisConnection
    var extraYAML: [String: String] = [:]
    /// Extra `key: value` lines for the server, postgres and spill sections of the config.
    var serverLines: [String] = []
    var postgresLines: [String] = []
    /// Extra lines of the `redis:` section (e.g. `read_pause_ms: 100`).
    var redisLines: [String] = []
    var spillLines: [String] = []
    /// `auth.producer_ssh_ca`: CA key text or a path to it; "none" (no usable CA) by default.
    var producerSSHCA = "none"

    /// - Parameter adminDSN: a superuser DSN of the server to use (default: the shared test server).
    init(adminDSN: String = IngestHarness.adminDSN) throws {
        serverDSN = adminDSN
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        database = "dk_it_\(id)"
        prefix = "it\(id):"
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-it-\(id)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        dsn = try TestDatabase.create(database, server: adminDSN, logger: logger)
        pg = try PGConnection(dsn: dsn, logger: logger)
        _ = try Migrator(directory: TestDatabase.migrationsDirectory, logger: logger).apply(on: pg)
        redis = try RedisConnection(endpoint: RedisConnection.Endpoint(address: Self.redisAddr)!, timeoutMs: 5000)
        try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "issuer", "-f", dir + "/issuer"])
    }

    /// Reconnects the test's own Postgres connection (after the server was restarted).
    func reconnectPostgres() throws {
        pg.close()
        pg = try PGConnection(dsn: dsn, logger: logger)
    }

    /// Drops the database and the Redis keys. Call at the end of each test.
    func tearDown() {
        pg.close()
        redis.deleteKeys(prefix: prefix)
        redis.close()
        TestDatabase.drop(database, server: serverDSN, logger: logger)
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: config

    /// The kernel config for this test, as YAML (also used for out-of-process kernels).
    func yaml(batchSize: Int = 100, batchMaxWaitMs: Int = 50, maxDeliveries: Int = 3, consumer: String = "kernel-test",
              queueSize: Int = 1024, writeConnections: Int = 2) -> String {
        var text = """
        server:
          listen: "127.0.0.1:0"
          max_message_bytes: 4096
        \(serverLines.map { "  " + $0 }.joined(separator: "\n"))
        postgres:
          dsn: "\(dsn)"
          apply_migrations: true
          migrations_dir: "\(Self.repoRoot)/migrations"
          batch_size: \(batchSize)
          batch_max_wait_ms: \(batchMaxWaitMs)
          queue_size: \(queueSize)
          write_connections: \(writeConnections)
        \(postgresLines.map { "  " + $0 }.joined(separator: "\n"))
        redis:
          addr: "\(Self.redisAddr)"
          key_prefix: "\(prefix)"
          stream: "events"
          consumer_name: "\(consumer)"
          block_ms: 200
          max_deliveries: \(maxDeliveries)
          claim_idle_ms: 60000
        \(redisLines.map { "  " + $0 }.joined(separator: "\n"))
        logging:
          level: debug
          output: "\(dir)/kernel.log"
        auth:
          issuer: "it-issuer"
          audience: "it-audience"
          key_id: "it-1"
          private_key_file: "\(dir)/issuer"
          producer_ssh_ca: "\(producerSSHCA)"
        plugins:
          dir: "\(Self.pluginsDir)"
        spill:
          dir: "\(dir)/spill"
        \(spillLines.map { "  " + $0 }.joined(separator: "\n"))

        """
        for (k, v) in extraYAML { text += "\(k): \(v)\n" }
        return text
    }

    func config(batchSize: Int = 100, batchMaxWaitMs: Int = 50, maxDeliveries: Int = 3, consumer: String = "kernel-test",
                queueSize: Int = 1024, writeConnections: Int = 2) throws -> KernelConfig {
        try KernelConfig.parse(yaml: yaml(batchSize: batchSize, batchMaxWaitMs: batchMaxWaitMs, maxDeliveries: maxDeliveries,
                                          consumer: consumer, queueSize: queueSize, writeConnections: writeConnections))
    }

    /// Writes the YAML to a file for an out-of-process kernel.
    func configFile(_ text: String) throws -> String {
        let path = dir + "/kernel.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: seeding

    func producer(_ name: String = "producer-\(UUID().uuidString.prefix(8))") throws -> EventUUID {
        let r = try pg.query("INSERT INTO producers (name) VALUES ($1) RETURNING producer_id::text", [name])
        return EventUUID(r.scalar!)!
    }

    /// A subject whose current schema is `family` at `version`.
    func subject(family: String, version: Int = 1, key: String = "subj-\(UUID().uuidString.prefix(8))") throws -> (subject: EventUUID, schema: EventUUID) {
        let s = try pg.query("""
            INSERT INTO schemas (name, version, body) VALUES ($1, $2::int, '{}'::jsonb)
            ON CONFLICT (name, version) DO UPDATE SET name = EXCLUDED.name RETURNING schema_id::text
            """, [family, String(version)])
        let schema = s.scalar!
        let r = try pg.query("INSERT INTO subjects (subject_key, current_schema_id) VALUES ($1, $2::uuid) RETURNING subject_id::text",
                             [key, schema])
        return (EventUUID(r.scalar!)!, EventUUID(schema)!)
    }

    func bind(_ producer: EventUUID, _ subject: EventUUID) throws {
        _ = try pg.query("INSERT INTO producer_subjects (producer_id, subject_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING",
                         [producer.description, subject.description])
    }

    /// A producer bound to a new subject of `family`, with a token: the usual start of a test.
    func boundProducer(family: String = "trade") throws -> BoundProducer {
        let producer = try self.producer()
        let (subject, schema) = try self.subject(family: family)
        try bind(producer, subject)
        return (producer, subject, schema, try token(for: producer))
    }

    /// Mints a token with the issuer key and records it, as `kernel token issue` does.
    /// `issuedSecondsAgo` back-dates the token (an expired one: ttl 600, issued 7200 s ago).
    func token(for producer: EventUUID, subject: EventUUID? = nil, ttl: Int = 3600, issuedSecondsAgo: Int64 = 0) throws -> String {
        let cfg = try config()
        let issuer = try TokenIssuer(settings: cfg.authSettings)
        let now = Int64(Date().timeIntervalSince1970) - issuedSecondsAgo
        let issued = issuer.issue(producer: producer, subject: subject, fingerprint: nil, ttlSeconds: ttl, nowSeconds: now)
        _ = try pg.query("INSERT INTO producer_tokens (producer_id, jti, expires_at, notes) VALUES ($1::uuid, $2, to_timestamp($3::bigint), 'test')",
                         [producer.description, issued.jti, String(issued.expiresAt)])
        return issued.token
    }

    // MARK: publishing

    var streamKey: String { prefix + "events" }
    var dlqKey: String { prefix + "events:dlq" }

    @discardableResult
    func publish(payload: String?, token: String?, id: String? = nil) throws -> String {
        var args = ["XADD", streamKey, "*"]
        if let payload { args += ["payload", payload] }
        if let token { args += ["token", token] }
        if let id { args += ["id", id] }
        if payload == nil && token == nil && id == nil { args += ["other", "x"] }
        return try redis.command(args).text!
    }

    /// An event envelope with a fresh event id and the current time.
    static func envelope(subject: EventUUID, payload: String, eventID: UUID = UUID(), ts: Date = Date(),
                         tags: String = #"[{"key":"core.source","value":"test"}]"#) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return #"{"event_id":"\#(eventID.uuidString.lowercased())","ts":"\#(formatter.string(from: ts))","subject_id":"\#(subject)","payload":\#(payload),"tags":\#(tags)}"#
    }

    // MARK: observing

    struct DeadLetterEntry: Equatable { var id: String; var reason: String; var detail: String; var payload: String }

    func deadLetters() throws -> [DeadLetterEntry] {
        let reply = try redis.command(["XRANGE", dlqKey, "-", "+"])
        return (reply.array ?? []).compactMap { item in
            guard let pair = item.array, pair.count == 2, let fields = pair[1].array else { return nil }
            var d: [String: String] = [:]
            var i = 0
            while i + 1 < fields.count { d[fields[i].text ?? ""] = fields[i + 1].text ?? ""; i += 2 }
            return DeadLetterEntry(id: d["id"] ?? "", reason: d["reason"] ?? "", detail: d["detail"] ?? "", payload: d["payload"] ?? "")
        }
    }

    func count(_ sql: String) throws -> Int { Int(try pg.query(sql).scalar ?? "0") ?? 0 }

    func pendingCount() throws -> Int {
        let reply = try redis.command(["XPENDING", streamKey, "kernel"])
        return Int(reply.array?.first?.integer ?? 0)
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    /// A condition that throws counts as not (yet) holding.
    func waitUntil(timeout: Double = 15, _ condition: () throws -> Bool) -> Bool {
        Polling.until(timeout: timeout, every: 0.05, condition)
    }

    // MARK: kernels

    /// Runs `body` with a fresh harness (`configure` sets its extra config lines), a producer
    /// bound to a `trade` subject and a kernel started in this process; stops the kernel, then
    /// tears the harness down.
    static func withRunningKernel(batchSize: Int = 100, batchMaxWaitMs: Int = 50, configure: (IngestHarness) -> Void = { _ in },
                                  _ body: (IngestHarness, BoundProducer, Daemon) throws -> Void) throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        configure(h)
        let bound = try h.boundProducer()
        let daemon = try h.startDaemon(batchSize: batchSize, batchMaxWaitMs: batchMaxWaitMs)
        defer { daemon.stop() }
        try body(h, bound, daemon)
    }

    /// Starts an in-process kernel (Daemon) on this test's config.
    func startDaemon(batchSize: Int = 100, batchMaxWaitMs: Int = 50, maxDeliveries: Int = 3,
                     queueSize: Int = 1024, writeConnections: Int = 2) throws -> Daemon {
        let daemon = Daemon(config: try config(batchSize: batchSize, batchMaxWaitMs: batchMaxWaitMs, maxDeliveries: maxDeliveries,
                                               queueSize: queueSize, writeConnections: writeConnections),
                            logger: logger)
        try daemon.start()
        return daemon
    }

    /// Starts `kernel run` as a child process on `yaml`, with `extraEnvironment` added to its
    /// environment (e.g. systemd's NOTIFY_SOCKET).
    func startProcess(yaml: String, extraEnvironment: [String: String] = [:]) throws -> Process {
        try Self.startKernel(configPath: try configFile(yaml), stderrPath: dir + "/kernel.stderr", extraEnvironment: extraEnvironment)
    }

    /// The environment of a child kernel. The test's own environment points KERNEL_PG_DSN /
    /// KERNEL_REDIS_ADDR at the shared services; those would override the test's database in the
    /// child's config.
    static var childEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for key in ["KERNEL_PG_DSN", "KERNEL_PG_DSN_FILE", "KERNEL_REDIS_ADDR", "KERNEL_REDIS_PASSWORD"] { environment[key] = nil }
        return environment
    }

    /// Starts `kernel run --config configPath` as a child process, its stdout discarded and its
    /// stderr written to `stderrPath` (emptied first, or appended to: a restarted kernel's lines
    /// follow the earlier ones).
    static func startKernel(configPath: String, stderrPath: String, appending: Bool = false,
                            extraEnvironment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: kernelBinary)
        p.arguments = ["run", "--config", configPath]
        p.environment = childEnvironment.merging(extraEnvironment) { $1 }
        if !appending || !FileManager.default.fileExists(atPath: stderrPath) {
            FileManager.default.createFile(atPath: stderrPath, contents: nil)
        }
        let handle = FileHandle(forWritingAtPath: stderrPath)
        if appending { handle?.seekToEndOfFile() }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = handle
        try p.run()
        return p
    }

    /// Runs the kernel binary to completion with `args` (in `childEnvironment`); with
    /// `mergingStderr` its stderr is interleaved into `out` and `err` stays empty.
    static func runKernel(_ args: [String], mergingStderr: Bool = false) throws -> (status: Int32, out: String, err: String) {
        guard FileManager.default.isExecutableFile(atPath: kernelBinary) else {
            throw HarnessError(message: "\(kernelBinary) is missing: run `swift build` (or set DK_KERNEL_BIN)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: kernelBinary)
        p.arguments = args
        p.environment = childEnvironment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = mergingStderr ? out : err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = mergingStderr ? Data() : err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func run(_ tool: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw HarnessError(message: "\(tool) \(args) exited \(p.terminationStatus)") }
    }

    /// The kernel's log lines (JSON), for assertions on what it said.
    func logLines() -> [String] {
        (try? String(contentsOfFile: dir + "/kernel.log", encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
