import Foundation
import KernelAuth
import KernelConfig
import KernelCore
import KernelEvents
import KernelJSON
@testable import KernelOnboarding
import KernelPostgres
import KernelRedis
import KernelTestSupport
import KernelSSH
import Logging
import Synchronization
import Testing

/// A real onboarding environment for one test: a fresh migrated Postgres database, a unique Redis
/// key prefix, and OpenSSH material made by `ssh-keygen` in a temporary folder (a producer CA, an
/// issuer key). Helpers make keys and certificates, sign requests the way producers do, send
/// control messages, read response streams, run a handler directly or the whole service.
///
/// Every test makes its own harness and calls `tearDown()` at the end (`defer`), so tests run in
/// parallel without sharing state.
final class OnboardingHarness: @unchecked Sendable {
    /// This test's database (taken from the pool, or copied from the template).
    let database: String
    let dsn: String
    /// This test's Redis key prefix (`P`), e.g. `ob1a2b3c4d5e6f:`.
    let prefix: String
    /// Temporary folder holding keys and certificates.
    let dir: String
    /// Silent unless DK_TEST_LOG=1 (then log lines go to stderr).
    let logger = TestDatabase.harnessLogger(label: "onboarding-test", level: .debug)
    /// The test's own connections (not the handlers').
    let pg: PGConnection
    let redis: RedisConnection
    /// Private key path of the producer CA (ed25519 unless a test makes another).
    let caPath: String
    /// Private key path of the token issuer (ed25519, OpenSSH format).
    let issuerPath: String
    /// Extra YAML lines appended under `auth:` (e.g. `"registration_rate_limit_rpm: 1"`).
    var authYAML: [String] = []

    init() throws {
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        var database = "dk_ob_\(getpid())_\(id)"
        prefix = "ob\(id):"
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-ob-\(id)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if let pooled = Self.pool.withLock({ $0.popLast() }) {
            database = pooled
        } else {
            _ = try TestDatabase.create(database, template: try Self.template.get(), logger: logger)
        }
        self.database = database
        dsn = TestDatabase.dsn(database: database)
        pg = try PGConnection(dsn: dsn, logger: logger)
        redis = try RedisConnection(endpoint: RedisConnection.Endpoint(address: TestDatabase.redisAddr)!, timeoutMs: 5000)
        caPath = dir + "/ca"
        issuerPath = dir + "/issuer"
        try Self.sshKeygen(["-q", "-t", "ed25519", "-N", "", "-C", "ca", "-f", caPath])
        try Self.sshKeygen(["-q", "-t", "ed25519", "-N", "", "-C", "issuer", "-f", issuerPath])
    }

    /// A migrated database that each test copies (`CREATE DATABASE … TEMPLATE`), which is much
    /// faster than migrating a database per test. Named after a hash of the migration files, so
    /// a changed migration makes a new template; built under a temporary name and renamed, so
    /// concurrent test processes never see a half-migrated template.
    static let template: Result<String, any Error> = Result {
        let directory = TestDatabase.migrationsDirectory
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }.sorted()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for name in names {
            for byte in Array(name.utf8) + Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))) {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        let name = "dk_ob_tmpl_" + String(hash, radix: 16)
        let logger = Logger(label: "onboarding-test") { _ in SwiftLogNoOpLogHandler() }
        let admin = try PGConnection(dsn: TestDatabase.adminDSN, logger: logger)
        defer { admin.close() }
        if try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).count == 1 { return name }
        let building = name + "_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try admin.execute("CREATE DATABASE \(building)")
        let pg = try PGConnection(dsn: TestDatabase.dsn(database: building), logger: logger)
        _ = try Migrator(directory: directory, logger: logger).apply(on: pg)
        pg.close()
        do {
            try admin.execute("ALTER DATABASE \(building) RENAME TO \(name)")
        } catch {
            // Another process won the race.
            try? admin.execute("DROP DATABASE IF EXISTS \(building) WITH (FORCE)")
        }
        return name
    }

    /// Drops the database and this test's Redis keys.
    func tearDown() {
        pg.close()
        redis.deleteKeys(prefix: prefix)
        redis.close()
        if Self.emptied(database) {
            Self.pool.withLock { $0.append(database) }
        } else {
            Self.drop(database)
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: database pool

    /// Databases emptied by earlier tests of this process, ready for reuse: emptying the tables
    /// takes milliseconds where creating a database takes most of a second, and tests share two
    /// cores. The pool is dropped when the process exits.
    static let pool: Mutex<[String]> = {
        atexit { OnboardingHarness.drainPool() }
        return Mutex([])
    }()

    /// Empties every table of `database` except the migration record; false when that failed.
    static func emptied(_ database: String) -> Bool {
        let logger = Logger(label: "onboarding-test") { _ in SwiftLogNoOpLogHandler() }
        guard let pg = try? PGConnection(dsn: TestDatabase.dsn(database: database), logger: logger) else { return false }
        defer { pg.close() }
        do {
            try pg.execute("""
                DO $$ DECLARE tables text; BEGIN
                  SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') INTO tables
                  FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations';
                  IF tables IS NOT NULL THEN EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE'; END IF;
                END $$;
                """)
            return true
        } catch {
            return false
        }
    }

    static func drop(_ database: String) {
        TestDatabase.drop(database, logger: Logger(label: "onboarding-test") { _ in SwiftLogNoOpLogHandler() })
    }

    /// Drops the pooled databases, several at a time (each DROP waits for a checkpoint, and
    /// concurrent drops share them).
    static func drainPool() {
        let names = pool.withLock { names -> [String] in defer { names = [] }; return names }
        DispatchQueue.concurrentPerform(iterations: names.count) { drop(names[$0]) }
    }

    // MARK: configuration

    /// The kernel config for this test. `ca` is the value of `auth.producer_ssh_ca` (default: the
    /// path of this harness's CA public key).
    func yaml(ca: String? = nil, principals: [String] = []) -> String {
        var text = """
        postgres:
          dsn: "\(dsn)"
        redis:
          addr: "\(TestDatabase.redisAddr)"
          key_prefix: "\(prefix)"
          stream: "events"
          consumer_name: "kernel-test"
        auth:
          issuer: "ob-issuer"
          audience: "ob-audience"
          key_id: "ob-1"
          private_key_file: "\(issuerPath)"
          producer_ssh_ca: "\(ca ?? caPath + ".pub")"

        """
        if !principals.isEmpty {
            text += "  producer_principals: [\(principals.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
        }
        for line in authYAML { text += "  \(line)\n" }
        return text
    }

    func config(ca: String? = nil, principals: [String] = []) throws -> KernelConfig {
        try KernelConfig.parse(yaml: yaml(ca: ca, principals: principals))
    }

    func settings(ca: String? = nil, principals: [String] = []) throws -> OnboardingSettings {
        try config(ca: ca, principals: principals).onboardingSettings
    }

    /// A handler context on a new Redis connection of its own; `now` overrides the clock.
    func context(settings: OnboardingSettings, metrics: OnboardingMetrics = OnboardingMetrics(),
                 now: (() -> Int64)? = nil, logger: Logger? = nil) throws -> ControlContext {
        let connection = try settings.redis.connect()
        return ControlContext(redis: connection, settings: settings, logger: logger ?? self.logger, metrics: metrics,
                              now: now ?? { ControlContext.wallClockSeconds() })
    }

    // MARK: SSH material

    static func sshKeygen(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw HarnessError("ssh-keygen \(args) exited \(p.terminationStatus)") }
    }

    /// Makes a key pair `name` (`ed25519`, `ecdsa` with bits 256/384/521, `rsa` with bits);
    /// returns the private key path (public key at `path.pub`). Existing keys are reused.
    @discardableResult
    func makeKey(_ name: String, type: String = "ed25519", bits: Int? = nil) throws -> String {
        let path = dir + "/" + name
        if FileManager.default.fileExists(atPath: path) { return path }
        var args = ["-q", "-t", type, "-N", "", "-C", "\(name)@test", "-f", path]
        if let bits { args += ["-b", String(bits)] }
        try Self.sshKeygen(args)
        return path
    }

    /// A CA key pair of the given type; returns its private key path.
    func makeCA(_ name: String, type: String = "ed25519", bits: Int? = nil) throws -> String {
        try makeKey(name, type: type, bits: bits)
    }

    /// The public key line (`path.pub`) of a key made by `makeKey`.
    func publicLine(_ keyPath: String) throws -> String {
        try String(contentsOfFile: keyPath + ".pub", encoding: .utf8)
    }

    /// Certifies `keyPath.pub` with `ca` (default: the harness CA) and returns the certificate
    /// line (with its trailing newline, as producers send the file). `validity` is ssh-keygen's
    /// `-V` (default `always:forever`); `host` makes a host certificate; `options` are `-O`
    /// values (e.g. `force-command=ls`, `source-address=10.0.0.0/8`); `signatureAlgorithm` is
    /// `-t` for RSA CAs (`rsa-sha2-256`, `rsa-sha2-512`, `ssh-rsa`).
    func certify(_ keyPath: String, ca: String? = nil, id: String = "producer-test", principals: [String] = ["producer"],
                 validity: String? = "always:forever", host: Bool = false, options: [String] = [],
                 signatureAlgorithm: String? = nil) throws -> String {
        let name = "cert-\(UUID().uuidString.prefix(8))"
        let pub = dir + "/" + name + ".pub"
        try FileManager.default.copyItem(atPath: keyPath + ".pub", toPath: pub)
        try Self.sshKeygen(SSHKeygenArguments.certify(pub, ca: ca ?? caPath, id: id, serial: 7, principals: principals,
                                                      validity: validity, host: host, options: options,
                                                      signatureAlgorithm: signatureAlgorithm))
        return try String(contentsOfFile: dir + "/" + name + "-cert.pub", encoding: .utf8)
    }

    /// A producer identity (`producerIdentity()`) whose key is approved, and its producer id.
    func approvedProducer() throws -> (identity: ProducerIdentity, producerID: String) {
        let identity = try producerIdentity()
        return (identity, try insertKey(identity, status: "approved"))
    }

    /// A producer: an ed25519 key and its certificate from the harness CA.
    func producerIdentity(_ name: String = "producer-\(UUID().uuidString.prefix(6))", principals: [String] = ["producer"],
                          validity: String? = "always:forever") throws -> ProducerIdentity {
        let key = try makeKey(name)
        let cert = try certify(key, principals: principals, validity: validity)
        return ProducerIdentity(keyPath: key, cert: cert)
    }

    /// The request signature producers send: standard base64 of the raw Ed25519 signature over
    /// `Canonical(payload) + "." + nonce`. (`ssh-keygen -Y sign` makes SSHSIG, not this, so the
    /// private key is read with KernelAuth and signs directly.)
    static func sign(payload: String, nonce: String, keyPath: String) throws -> String {
        let key = try Ed25519PrivateKey(openSSHFile: keyPath)
        let message = ProducerSignature.signingBytes(payload: Array(payload.utf8), nonce: nonce)
        return Data(key.sign(message)).base64EncodedString()
    }

    /// A fresh random nonce (16 bytes, base64url).
    static func nonce() -> String {
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The four signed fields of a producer request (plus `extra`, e.g. `("action", "deregister")`).
    static func signedFields(_ identity: ProducerIdentity, payload: String, nonce: String = OnboardingHarness.nonce(),
                             extra: [(String, String)] = []) throws -> [(String, String)] {
        [("pubkey", identity.cert), ("payload", payload), ("nonce", nonce),
         ("sig", try sign(payload: payload, nonce: nonce, keyPath: identity.keyPath))] + extra
    }

    // MARK: messages

    /// A control message as a handler receives it.
    static func message(_ fields: [(String, String)], id: String = "1-0") -> ControlMessage {
        var map: [String: [UInt8]] = [:]
        for (name, value) in fields { map[name] = Array(value.utf8) }
        return ControlMessage(id: id, fields: map)
    }

    /// A control message with raw byte values (hostile inputs).
    static func rawMessage(_ fields: [(String, [UInt8])], id: String = "1-0") -> ControlMessage {
        var map: [String: [UInt8]] = [:]
        for (name, value) in fields { map[name] = value }
        return ControlMessage(id: id, fields: map)
    }

    /// XADDs `fields` to `P + suffix`; returns the entry id.
    @discardableResult
    func send(_ suffix: String, _ fields: [(String, String)]) throws -> String {
        try sendRaw(suffix, fields.map { ($0.0, Array($0.1.utf8)) })
    }

    @discardableResult
    func sendRaw(_ suffix: String, _ fields: [(String, [UInt8])]) throws -> String {
        var args: [[UInt8]] = [Array("XADD".utf8), Array((prefix + suffix).utf8), Array("*".utf8)]
        for (name, value) in fields { args.append(Array(name.utf8)); args.append(value) }
        if fields.isEmpty { args += [Array("x".utf8), Array("y".utf8)] }
        guard let id = try redis.command(args).text else { throw HarnessError("XADD failed") }
        return id
    }

    /// The entries of stream `P + suffix` (every field as text), oldest first.
    func responses(_ suffix: String) throws -> [[String: String]] {
        let reply = try redis.command(["XRANGE", prefix + suffix, "-", "+"])
        return (reply.array ?? []).compactMap { item in
            guard let pair = item.array, pair.count == 2, let fields = pair[1].array else { return nil }
            var d: [String: String] = [:]
            var i = 0
            while i + 1 < fields.count { d[fields[i].text ?? ""] = fields[i + 1].text ?? ""; i += 2 }
            return d
        }
    }

    /// Waits until stream `P + suffix` holds at least `count` entries or `timeout` passes;
    /// returns its entries.
    func waitForResponses(_ suffix: String, count: Int = 1, timeout: Double = 5) throws -> [[String: String]] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let found = try responses(suffix)
            if found.count >= count { return found }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return try responses(suffix)
    }

    /// TTL in seconds of `P + suffix` (-2 absent, -1 no TTL).
    func ttl(_ suffix: String) throws -> Int64 {
        try redis.command(["TTL", prefix + suffix]).integer ?? -2
    }

    func exists(_ suffix: String) throws -> Bool {
        try redis.command(["EXISTS", prefix + suffix]).integer == 1
    }

    /// Polls `condition` until it holds or `timeout` passes.
    func waitUntil(timeout: Double = 5, _ condition: () throws -> Bool) -> Bool {
        Polling.until(timeout: timeout, every: 0.02, condition)
    }

    // MARK: services

    /// Starts the real service (one consumer thread per handler) on this test's config.
    func startService(settings: OnboardingSettings, handlers: [any ControlMessageHandler],
                      metrics: OnboardingMetrics = OnboardingMetrics()) throws -> OnboardingService {
        let service = OnboardingService(settings: settings, handlers: handlers, logger: logger, metrics: metrics)
        try service.start()
        return service
    }

    /// Number of entries still pending in the group of `P + suffix`.
    func pendingCount(_ suffix: String, group: String = "kernel") throws -> Int {
        Int(try redis.command(["XPENDING", prefix + suffix, group]).array?.first?.integer ?? 0)
    }

    // MARK: database

    func count(_ sql: String, _ params: [String?] = []) throws -> Int {
        Int(try pg.query(sql, params).scalar ?? "0") ?? 0
    }

    func scalar(_ sql: String, _ params: [String?] = []) throws -> String? {
        try pg.query(sql, params).scalar
    }

    /// A producer row; returns its id.
    func insertProducer(_ name: String = "producer-\(UUID().uuidString.prefix(8))", disabled: Bool = false) throws -> String {
        try pg.query("INSERT INTO producers (name, disabled_at) VALUES ($1, CASE WHEN $2::bool THEN now() END) RETURNING producer_id::text",
                     [name, disabled ? "true" : "false"]).scalar!
    }

    /// A key row for `identity` with `status`, bound to `producer` (a new producer by default);
    /// returns the producer id.
    @discardableResult
    func insertKey(_ identity: ProducerIdentity, status: String, producer: String? = nil) throws -> String {
        let producer = try producer ?? insertProducer()
        _ = try pg.query("""
            INSERT INTO producer_keys (fingerprint, producer_id, pubkey, status, approved_at)
            VALUES ($1, $2::uuid, $3, $4, CASE WHEN $4 = 'approved' THEN now() END)
            """, [identity.fingerprint, producer, identity.cert, status])
        return producer
    }

    /// The audit row status of (`fingerprint`, `nonce`), nil if none.
    func auditStatus(_ fingerprint: String, _ nonce: String) throws -> String? {
        try pg.query("SELECT status FROM producer_registrations WHERE fingerprint = $1 AND nonce = $2", [fingerprint, nonce]).scalar
    }

    /// The token verifier of this test's config.
    func verifier() throws -> TokenVerifier {
        try TokenVerifier(settings: try config().authSettings)
    }

    /// Mints a token with the issuer key and records it, as `kernel token issue` does.
    func mintToken(for producer: String, ttl: Int = 3600, issuedSecondsAgo: Int64 = 0) throws -> IssuedToken {
        let issuer = try TokenIssuer(settings: try config().authSettings)
        let now = Int64(Date().timeIntervalSince1970) - issuedSecondsAgo
        let issued = issuer.issue(producer: EventUUID(producer)!, subject: nil, fingerprint: nil, ttlSeconds: ttl, nowSeconds: now)
        _ = try pg.query("INSERT INTO producer_tokens (producer_id, jti, expires_at, notes) VALUES ($1::uuid, $2, to_timestamp($3::bigint), 'test')",
                         [producer, issued.jti, String(issued.expiresAt)])
        return issued
    }
}

/// A producer's key and certificate.
struct ProducerIdentity: Sendable {
    /// Private key path (OpenSSH ed25519).
    let keyPath: String
    /// The certificate line as the producer sends it.
    let cert: String
    /// The fingerprint of the certified key (docs/protocol.md, "Fingerprints").
    var fingerprint: String { KeyFingerprint.of(pubkey: cert) }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
