import Foundation
import KernelAdmin
import KernelAuth
import KernelConfig
import KernelCore
import KernelMetrics
import KernelPostgres
import KernelRedis
import KernelTestSupport
import Logging
import Testing

/// One test's world: a fresh migrated Postgres database, a fresh Redis key prefix, SSH CAs and
/// admin certificates made with ssh-keygen, and an `AdminServer` on an ephemeral port.
final class AdminHarness: @unchecked Sendable {
    let database: String
    let dsn: String
    let prefix: String
    let dir: String
    let logger = TestDatabase.harnessLogger(label: "admin-test")
    let pg: PGConnection
    let redis: RedisConnection
    let metrics = KernelMetrics()
    private(set) var server: AdminServer?
    /// The admin principal the server requires (`auth.admin_principal`).
    let principal = "kernel-admin"

    init() throws {
        let id = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        database = "dk_admin_\(id)"
        prefix = "adm\(id):"
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("dk-admin-\(id)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        dsn = try TestDatabase.create(database, logger: logger)
        pg = try PGConnection(dsn: dsn, logger: logger)
        _ = try Migrator(directory: TestDatabase.migrationsDirectory, logger: logger).apply(on: pg)
        redis = try RedisConnection(endpoint: RedisConnection.Endpoint(address: TestDatabase.redisAddr)!, timeoutMs: 5000)
        // CAs: the admin CA, the producer CA (its certs must not work here), an unrelated CA.
        for ca in ["admin_ca", "producer_ca", "other_ca"] { try keygen(ca) }
        // The admin's key and a valid certificate.
        try keygen("admin")
        try sign("admin", ca: "admin_ca", principals: principal)
    }

    func tearDown() async {
        await server?.stop()
        pg.close()
        redis.deleteKeys(prefix: prefix)
        redis.close()
        TestDatabase.drop(database, logger: logger)
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: Config and server

    func config(dsn: String? = nil, tls: KernelConfig.TLS? = nil, adminCA: String? = nil) -> KernelConfig {
        let redisAddress = RedisConnection.Endpoint(address: TestDatabase.redisAddr)!
        var redis = KernelConfig.Redis(addr: HostPort(host: redisAddress.host, port: Int(redisAddress.port)), keyPrefix: prefix,
                                       stream: "events")
        redis.readTimeoutMs = 2000
        var auth = KernelConfig.Auth(issuer: "kernel", audience: "producers", keyID: "k1", producerSSHCA: dir + "/producer_ca.pub")
        auth.adminSSHCA = adminCA ?? dir + "/admin_ca.pub"
        auth.adminPrincipal = principal
        auth.registrationResponseTTLSeconds = 120
        var server = KernelConfig.Server()
        server.listen = HostPort(host: "127.0.0.1", port: 0)
        server.tls = tls
        return KernelConfig(server: server, postgres: KernelConfig.Postgres(dsn: dsn ?? self.dsn), redis: redis, auth: auth)
    }

    /// Starts the server on an ephemeral port.
    @discardableResult
    func start(config: KernelConfig? = nil, spillState: @escaping @Sendable () -> String? = { nil },
               beforeScrape: @escaping @Sendable () -> Void = {}) async throws -> AdminServer {
        let server = AdminServer(settings: (config ?? self.config()).adminSettings, metrics: metrics, logger: logger, spillState: spillState,
                                 beforeScrape: beforeScrape)
        try await server.start()
        self.server = server
        return server
    }

    var baseURL: AdminClient.BaseURL { AdminClient.BaseURL("http://127.0.0.1:\(server!.boundPort!)")! }

    /// A signer for `name`'s key and `name-cert.pub`.
    func signer(_ name: String = "admin", principal: String? = nil) throws -> AdminRequestSigner {
        AdminRequestSigner(key: try Ed25519PrivateKey(openSSHFile: dir + "/" + name),
                           certificateLine: try String(contentsOfFile: dir + "/\(name)-cert.pub", encoding: .utf8),
                           principal: principal)
    }

    func client(_ name: String? = "admin", principal: String? = nil) throws -> AdminClient {
        AdminClient(baseURL: baseURL, signer: try name.map { try signer($0, principal: principal) })
    }

    // MARK: Keys

    func keygen(_ name: String) throws {
        try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", dir + "/" + name])
    }

    /// Signs `name.pub` with `ca` into `name-cert.pub`.
    func sign(_ name: String, ca: String, principals: String, validity: String = "-5m:+1h", options: [String] = []) throws {
        var args = ["-q", "-s", dir + "/" + ca, "-I", "\(name)-id", "-n", principals, "-V", validity]
        for option in options { args += ["-O", option] }
        try run("/usr/bin/ssh-keygen", args + [dir + "/\(name).pub"])
    }

    @discardableResult
    func run(_ tool: String, _ args: [String], cwd: String? = nil) throws -> String {
        let (status, text) = try Command.run(tool, args, in: cwd)
        guard status == 0 else { throw HarnessError(message: "\(tool) \(args) exited \(status): \(text)") }
        return text
    }

    // MARK: Seeding

    /// A producer with one key of `status`, plus a `pending` audit row (fingerprint, nonce).
    @discardableResult
    func seedProducer(name: String, fingerprint: String, keyStatus: String = "pending", nonce: String? = nil,
                      auditStatus: String = "pending") throws -> String {
        let producerID = try pg.query("INSERT INTO producers (name) VALUES ($1) RETURNING producer_id::text", [name]).scalar!
        try seedKey(producerID: producerID, fingerprint: fingerprint, status: keyStatus, nonce: nonce, auditStatus: auditStatus)
        return producerID
    }

    func seedKey(producerID: String, fingerprint: String, status: String, nonce: String? = nil, auditStatus: String = "pending") throws {
        _ = try pg.query("""
            INSERT INTO producer_keys (fingerprint, producer_id, pubkey, status, approved_at)
            VALUES ($1, $2::uuid, 'ssh-ed25519-cert-v01@openssh.com AAAA test', $3, CASE WHEN $3 = 'approved' THEN now() END)
            """, [fingerprint, producerID, status])
        if let nonce {
            _ = try pg.query("""
                INSERT INTO producer_registrations (fingerprint, key_fingerprint, payload, sig, nonce, status)
                VALUES ($1, $1, '{}'::jsonb, 'sig', $2, $3)
                """, [fingerprint, nonce, auditStatus])
        }
    }

    func keyRow(_ fingerprint: String) throws -> [String: String?] {
        let r = try pg.query("""
            SELECT status, approved_at IS NOT NULL, superseded_at IS NOT NULL, superseded_by, revoked_at IS NOT NULL, notes
              FROM producer_keys WHERE fingerprint = $1
            """, [fingerprint])
        guard r.count == 1 else { return [:] }
        return ["status": r[0, 0], "approved": r[0, 1], "superseded": r[0, 2], "superseded_by": r[0, 3], "revoked": r[0, 4],
                "notes": r[0, 5]]
    }

    func auditStatuses(_ fingerprint: String) throws -> [String] {
        try pg.query("SELECT status || ':' || coalesce(reason, '') || ':' || coalesce(reviewer, '') FROM producer_registrations WHERE fingerprint = $1 ORDER BY ts",
                     [fingerprint]).rows.map { $0[0] ?? "" }
    }

    static func uniqueFingerprint() -> String {
        Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
