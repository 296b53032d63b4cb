import Foundation
import KernelAdmin
import KernelCore
import KernelJSON
import KernelPostgres
import KernelTestSupport
import Testing

@Suite(.serialized) struct AdminEndpointTests {
    func json(_ response: AdminClient.Response) throws -> JSONValue { try JSONParser.parse(response.body) }

    @Test func healthReadinessAndMetrics() async throws {
        let h = try AdminHarness()
        let spill = SpillFlag()
        let scrapes = SpillFlag()
        try await h.start(spillState: { spill.value }, beforeScrape: {
            scrapes.value = "scraped"
            h.metrics.redisReadTotal.increment(by: 5)
        })
        let client = AdminClient(baseURL: h.baseURL, signer: nil)
        let health = try await client.send(method: "GET", path: "/healthz")
        #expect(health.status == 200 && health.text == "ok")
        let ready = try await client.send(method: "GET", path: "/readyz")
        #expect(ready.status == 200 && ready.text == "ready")
        spill.value = "postgres unreachable"
        let spilling = try await client.send(method: "GET", path: "/readyz")
        #expect(spilling.status == 200 && spilling.text == "degraded: spilling (postgres unreachable)")

        let metrics = try await client.send(method: "GET", path: "/metrics")
        #expect(metrics.status == 200)
        #expect(scrapes.value == "scraped")
        let parsed = try PrometheusText(metrics.text)
        for name in specCounters + specHistograms + specGauges { #expect(parsed.types[name] != nil, "\(name)") }
        #expect(parsed.value("kernel_redis_read_total") == 5)

        #expect(try await client.send(method: "GET", path: "/nope").status == 404)
        #expect(try await client.send(method: "GET", path: "/auth/").status == 404)
        #expect(try await client.send(method: "POST", path: "/healthz").status == 405)
        await h.tearDown()
    }

    @Test func readinessFollowsPostgres() async throws {
        let h = try AdminHarness()
        // Nothing listens on port 1: Postgres unreachable → 503 even while spilling.
        try await h.start(config: h.config(dsn: "postgres://kernel@127.0.0.1:1/kernel?sslmode=disable"),
                          spillState: { "postgres unreachable" })
        let client = AdminClient(baseURL: h.baseURL, signer: nil)
        let down = try await client.send(method: "GET", path: "/readyz")
        #expect(down.status == 503)
        #expect(down.text == "not ready: postgres unreachable")
        #expect(try await client.send(method: "GET", path: "/healthz").status == 200)
        await h.server?.stop()

        // The same harness pointed at the real database: 200.
        let up = try await h.start()
        #expect(up.boundPort != nil)
        let ready = try await AdminClient(baseURL: h.baseURL, signer: nil).send(method: "GET", path: "/readyz")
        #expect(ready.status == 200 && ready.text == "ready")
        await h.tearDown()
    }

    @Test func startFailsWhenThePortIsTaken() async throws {
        let h = try AdminHarness()
        let first = try await h.start()
        var config = h.config()
        config.server.listen.port = first.boundPort!
        let second = AdminServer(settings: config.adminSettings, metrics: h.metrics, logger: h.logger)
        await #expect(throws: (any Error).self) { try await second.start() }
        await second.stop()
        // The blocking wrappers (the daemon's way in, from its own threads — never from the
        // concurrency pool, which they would block) start and stop a server too.
        let blocking = AdminServer(settings: h.config().adminSettings, metrics: h.metrics, logger: h.logger)
        try await onThread { try blocking.startBlocking() }
        let port = try #require(blocking.boundPort)
        #expect(try await AdminClient(baseURL: .init("http://127.0.0.1:\(port)")!, signer: nil).send(method: "GET", path: "/healthz").status == 200)
        try await onThread { blocking.stopBlocking() }
        await #expect(throws: (any Error).self) {
            _ = try await AdminClient(baseURL: .init("http://127.0.0.1:\(port)")!, signer: nil, timeoutSeconds: 2).send(method: "GET", path: "/healthz")
        }
        await h.tearDown()
    }

    @Test func listings() async throws {
        let h = try AdminHarness()
        let fpA = AdminHarness.uniqueFingerprint(), fpB = AdminHarness.uniqueFingerprint()
        let alpha = try h.seedProducer(name: "alpha", fingerprint: fpA, keyStatus: "approved", nonce: "n-a", auditStatus: "approved")
        let beta = try h.seedProducer(name: "beta", fingerprint: fpB, nonce: "n-b1")
        try h.seedKey(producerID: beta, fingerprint: AdminHarness.uniqueFingerprint(), status: "revoked")
        _ = try h.pg.query("INSERT INTO producer_registrations (fingerprint, key_fingerprint, nonce, status) VALUES ($1, $1, 'n-b2', 'pending')", [fpB])
        _ = try h.pg.query("INSERT INTO producers (name, description) VALUES ('gamma', 'no keys')")
        _ = try h.pg.query("""
            INSERT INTO producer_tokens (producer_id, jti, expires_at) VALUES ($1::uuid, 'JTI-ALPHA', now() + interval '1 hour')
            """, [alpha])
        try await h.start()
        let client = try h.client()

        let pending = try json(try await client.send(method: "GET", path: "/auth"))
        #expect(pending.arrayValue?.count == 2)   // one row per pending attempt
        #expect(pending[0]?["fingerprint"]?.stringValue == fpB)
        #expect(pending[0]?["producer_id"]?.stringValue == beta)
        #expect(pending[0]?["name"]?.stringValue == "beta")
        #expect(pending[0]?["ts"]?.stringValue?.hasSuffix("Z") == true)

        let all = try json(try await client.send(method: "GET", path: "/auth", query: "filter=all"))
        let byName = Dictionary(uniqueKeysWithValues: (all.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0) })
        #expect(byName.count == 3)
        #expect(byName["alpha"]?["status"]?.stringValue == "approved")
        #expect(byName["beta"]?["status"]?.stringValue == "pending")
        #expect(byName["gamma"]?["status"]?.stringValue == "unknown")
        #expect(byName["gamma"]?["description"]?.stringValue == "no keys")
        #expect(byName["alpha"]?["description"] == nil)
        #expect(byName["alpha"]?["active_key"] == nil)

        let registered = try json(try await client.send(method: "GET", path: "/auth", query: "filter=registered"))
        #expect(Set((registered.arrayValue ?? []).compactMap { $0["name"]?.stringValue }) == ["alpha", "beta"])

        // long=true alone means filter=registered, with token fields.
        let long = try json(try await client.send(method: "GET", path: "/auth", query: "long=true"))
        let longByName = Dictionary(uniqueKeysWithValues: (long.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0) })
        #expect(longByName.count == 2)
        #expect(longByName["alpha"]?["active_key"]?.stringValue == fpA)
        #expect(longByName["alpha"]?["access_token_jti"]?.stringValue == "JTI-ALPHA")
        #expect(longByName["alpha"]?["token_status"]?.stringValue == "active")
        #expect(longByName["alpha"]?["token_expires"]?.stringValue?.hasSuffix("Z") == true)
        #expect(longByName["beta"]?["token_status"]?.stringValue == "unknown")

        let active = try json(try await client.send(method: "GET", path: "/auth", query: "filter=active"))
        #expect(active.arrayValue?.count == 1)
        #expect(active[0]?["producer_id"]?.stringValue == alpha)
        #expect(active[0]?["status"]?.stringValue == "active")

        let unknown = try await client.send(method: "GET", path: "/auth", query: "filter=bogus")
        #expect(unknown.status == 400)
        #expect(try json(unknown)["error"]?.stringValue == "unknown_filter")
        await h.tearDown()
    }

    @Test func approveNewProducerNotifiesTheWaitingProducer() async throws {
        let h = try AdminHarness()
        let fp = AdminHarness.uniqueFingerprint()
        let producer = try h.seedProducer(name: "newbie", fingerprint: fp, nonce: "old-nonce")
        // A later attempt with another nonce: the notification goes to the newest one.
        _ = try h.pg.query("""
            INSERT INTO producer_registrations (fingerprint, key_fingerprint, nonce, status, ts)
            VALUES ($1, $1, 'new-nonce', 'pending', now() + interval '1 second')
            """, [fp])
        try await h.start()
        let response = try await h.client().send(method: "POST", path: "/auth/review", body: Array("""
            {"action":"approve","producer_id":"\(producer)","fingerprint":"\(fp)","notes":"desk feed"}
            """.utf8))
        #expect(response.status == 200)
        let body = try json(response)
        #expect(body["status"]?.stringValue == "approved")
        #expect(body["type"]?.stringValue == "new_producer")
        #expect(body["producer_id"]?.stringValue == producer)
        #expect(body["fingerprint"]?.stringValue == fp)

        let key = try h.keyRow(fp)
        #expect(key["status"] == "approved")
        #expect(key["approved"] == "t")
        #expect(try h.pg.query("SELECT description FROM producers WHERE producer_id = $1::uuid", [producer]).scalar == "desk feed")
        #expect(try h.auditStatuses(fp) == ["approved::\(h.principal)", "approved::\(h.principal)"])

        let stream = h.prefix + "register:resp:new-nonce"
        let entries = try h.redis.command(["XRANGE", stream, "-", "+"]).array ?? []
        #expect(entries.count == 1)
        let fields = (entries.first?.array?[1].array ?? []).compactMap(\.text)
        #expect(fields == ["fingerprint", fp, "producer_id", producer, "status", "approved"])
        let ttl = try h.redis.command(["TTL", stream]).integer ?? -2
        #expect(ttl > 0 && ttl <= 120)
        #expect(try h.redis.command(["EXISTS", h.prefix + "register:resp:old-nonce"]).integer == 0)

        // Approving again: the key is no longer pending → 400.
        let again = try await h.client().send(method: "POST", path: "/auth/review", body: Array("""
            {"action":"approve","producer_id":"\(producer)","fingerprint":"\(fp)"}
            """.utf8))
        #expect(again.status == 400)
        await h.tearDown()
    }

    @Test func approveRotationSupersedesTheOldKey() async throws {
        let h = try AdminHarness()
        let old = AdminHarness.uniqueFingerprint(), new = AdminHarness.uniqueFingerprint()
        let producer = try h.seedProducer(name: "rotator", fingerprint: old, keyStatus: "approved")
        try h.seedKey(producerID: producer, fingerprint: new, status: "pending", nonce: "rot-nonce")
        // A pending key of another producer cannot be approved as this producer's rotation.
        let stranger = try h.seedProducer(name: "stranger", fingerprint: AdminHarness.uniqueFingerprint(), keyStatus: "approved")
        let strangerKey = AdminHarness.uniqueFingerprint()
        try h.seedKey(producerID: stranger, fingerprint: strangerKey, status: "pending")
        try await h.start()
        let client = try h.client()

        let wrong = try await client.send(method: "POST", path: "/auth/review", body: Array("""
            {"action":"approve","producer_id":"\(producer)","fingerprint":"\(strangerKey)"}
            """.utf8))
        #expect(wrong.status == 400)
        #expect(try json(wrong)["error"]?.stringValue == "producer_mismatch")

        let response = try await client.send(method: "POST", path: "/auth/review", body: Array("""
            {"action":"approve","producer_id":"\(producer)","fingerprint":"\(new)"}
            """.utf8))
        #expect(response.status == 200)
        #expect(try json(response)["type"]?.stringValue == "key_rotation")
        let oldRow = try h.keyRow(old), newRow = try h.keyRow(new)
        #expect(oldRow["status"] == "superseded")
        #expect(oldRow["superseded"] == "t")
        #expect(oldRow["superseded_by"] == new)
        #expect(newRow["status"] == "approved")
        #expect(try h.pg.query("SELECT count(*) FROM producer_keys WHERE producer_id = $1::uuid AND status = 'approved'",
                               [producer]).scalar == "1")
        let entries = try h.redis.command(["XRANGE", h.prefix + "register:resp:rot-nonce", "-", "+"]).array ?? []
        #expect(entries.count == 1)
        await h.tearDown()
    }

    /// Key rotation approves the new key and supersedes the old one, on the SQL function itself.
    @Test func approveKeyRotationFunction() throws {
        let h = try AdminHarness()
        defer { Task { await h.tearDown() } }
        let old = AdminHarness.uniqueFingerprint(), new = AdminHarness.uniqueFingerprint()
        let producer = try h.seedProducer(name: "sqlrot", fingerprint: old, keyStatus: "approved")
        try h.seedKey(producerID: producer, fingerprint: new, status: "pending", nonce: "sql-n")
        #expect(try h.pg.query("SELECT approve_key_rotation($1, $2::uuid, 'ops', NULL)::text", [new, producer]).scalar == producer)
        #expect(try h.keyRow(old)["status"] == "superseded")
        #expect(try h.keyRow(new)["status"] == "approved")
        #expect(try h.auditStatuses(new) == ["approved::ops"])
        // Again: the key is approved now → P0001 "key_not_pending: …".
        do {
            _ = try h.pg.query("SELECT approve_key_rotation($1, $2::uuid, 'ops')", [new, producer])
            Issue.record("expected a refusal")
        } catch {
            #expect(error.sqlState == "P0001")
            #expect(error.message.hasPrefix("key_not_pending:"))
        }
        // The migrations (0007 included) re-apply cleanly.
        _ = try Migrator(directory: TestDatabase.migrationsDirectory, logger: h.logger).apply(on: h.pg)
    }

    @Test func denyRevokesTheKeyAndRejectsPendingAudits() async throws {
        let h = try AdminHarness()
        let fp = AdminHarness.uniqueFingerprint()
        let producer = try h.seedProducer(name: "denied", fingerprint: fp, nonce: "d1")
        _ = try h.pg.query("INSERT INTO producer_registrations (fingerprint, key_fingerprint, nonce, status) VALUES ($1, $1, 'd2', 'invalid_sig')", [fp])
        try await h.start()
        let client = try h.client()
        // Reason is mandatory.
        let noReason = try await client.send(method: "POST", path: "/auth/review", body: Array("""
            {"action":"deny","producer_id":"\(producer)","fingerprint":"\(fp)"}
            """.utf8))
        #expect(noReason.status == 400)
        let response = try await client.send(method: "POST", path: "/auth/review", body: Array("""
            {"action":"deny","producer_id":"\(producer)","fingerprint":"\(fp)","reason":"unknown desk"}
            """.utf8))
        #expect(response.status == 200)
        let body = try json(response)
        #expect(body["status"]?.stringValue == "denied")
        #expect(body["reason"]?.stringValue == "unknown desk")
        let key = try h.keyRow(fp)
        #expect(key["status"] == "revoked")
        #expect(key["revoked"] == "t")
        #expect(key["notes"] == "unknown desk")
        #expect(Set(try h.auditStatuses(fp)) == ["rejected:unknown desk:\(h.principal)", "invalid_sig::"])
        // Unknown fingerprint → 400.
        let unknown = try await client.send(method: "POST", path: "/auth/review", body: Array("""
            {"action":"deny","producer_id":"\(producer)","fingerprint":"nope","reason":"x"}
            """.utf8))
        #expect(unknown.status == 400)
        await h.tearDown()
    }

    @Test func reviewValidation() async throws {
        let h = try AdminHarness()
        try await h.start()
        let client = try h.client()
        let pid = UUID().uuidString.lowercased()
        let cases: [(String, String)] = [
            ("not json", "bad_json"),
            ("[1,2]", "bad_json"),
            ("{}", "missing_action"),
            (#"{"action":"approve"}"#, "missing_producer_id"),
            (#"{"action":"approve","producer_id":"not-a-uuid","fingerprint":"f"}"#, "invalid_producer_id"),
            (#"{"action":"approve","producer_id":"\#(pid)"}"#, "missing_fingerprint"),
            (#"{"action":"deny","producer_id":"\#(pid)","fingerprint":"f"}"#, "missing_reason"),
            (#"{"action":"deny","producer_id":"\#(pid)","reason":"r"}"#, "missing_fingerprint"),
            (#"{"action":"bless","producer_id":"\#(pid)"}"#, "unknown_action"),
            (#"{"action":"approve","producer_id":"\#(pid)","fingerprint":"unknown"}"#, "unknown_fingerprint"),
            (#"{"action":7,"producer_id":"\#(pid)"}"#, "missing_action"),
        ]
        for (body, code) in cases {
            let response = try await client.send(method: "POST", path: "/auth/review", body: Array(body.utf8))
            #expect(response.status == 400, "\(body)")
            #expect(try json(response)["error"]?.stringValue == code, "\(body)")
        }
        for body in ["", "{", #"{"reason":"x"}"#, #"{"jti":""}"#, #"{"jti":5}"#] {
            let response = try await client.send(method: "POST", path: "/auth/revoke", body: Array(body.utf8))
            #expect(response.status == 400, "\(body)")
        }
        await h.tearDown()
    }

    @Test func revokeMarksTheTokenEverywhere() async throws {
        let h = try AdminHarness()
        let producer = try h.seedProducer(name: "tok", fingerprint: AdminHarness.uniqueFingerprint(), keyStatus: "approved")
        _ = try h.pg.query("INSERT INTO producer_tokens (producer_id, jti, expires_at) VALUES ($1::uuid, 'JTI-1', now() + interval '1 hour')",
                           [producer])
        _ = try h.redis.command(["SET", h.prefix + "auth:jti:JTI-1", "\(producer)|fp", "EX", "600"])
        try await h.start()
        let response = try await h.client().send(method: "POST", path: "/auth/revoke", body: Array(#"{"jti":"JTI-1","reason":"leaked"}"#.utf8))
        #expect(response.status == 204)
        #expect(response.body.isEmpty)
        #expect(try h.pg.query("SELECT reason FROM revoked_tokens WHERE jti = 'JTI-1'").scalar == "leaked")
        #expect(try h.pg.query("SELECT revoked_at IS NOT NULL FROM producer_tokens WHERE jti = 'JTI-1'").scalar == "t")
        #expect(try h.redis.command(["GET", h.prefix + "revoked:jti:JTI-1"]).text == "1")
        let ttl = try h.redis.command(["TTL", h.prefix + "revoked:jti:JTI-1"]).integer ?? 0
        #expect(ttl > 29 * 24 * 3600)
        #expect(try h.redis.command(["EXISTS", h.prefix + "auth:jti:JTI-1"]).integer == 0)
        // Revoking again (or an unknown jti) is fine: the upsert is idempotent.
        let again = try await h.client().send(method: "POST", path: "/auth/revoke", body: Array(#"{"jti":"JTI-1","reason":"again"}"#.utf8))
        #expect(again.status == 204)
        #expect(try h.pg.query("SELECT reason FROM revoked_tokens WHERE jti = 'JTI-1'").scalar == "again")
        let unknown = try await h.client().send(method: "POST", path: "/auth/revoke", body: Array(#"{"jti":"NEVER-ISSUED"}"#.utf8))
        #expect(unknown.status == 204)
        await h.tearDown()
    }

    @Test func revokeReportsStorageFailure() async throws {
        let h = try AdminHarness()
        // The nonce needs Redis; Postgres down makes the revoke's storage fail → 500.
        try await h.start(config: h.config(dsn: "postgres://kernel@127.0.0.1:1/kernel?sslmode=disable"))
        let response = try await h.client().send(method: "POST", path: "/auth/revoke", body: Array(#"{"jti":"J"}"#.utf8))
        #expect(response.status == 500)
        let list = try await h.client().send(method: "GET", path: "/auth")
        #expect(list.status == 500)
        await h.tearDown()
    }
}

/// Runs blocking `body` on a new OS thread.
func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        Thread {
            do { try body(); continuation.resume() } catch { continuation.resume(throwing: error) }
        }.start()
    }
}

/// A mutable string shared with server callbacks.
final class SpillFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    var value: String? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
