import KernelEvents
import KernelJSON
import KernelPostgres

/// The registration flow's SQL (tables of migrations/0001_core.sql). Every function runs on the
/// caller's connection, inside the caller's transaction when there is one.
enum RegistrationStore {
    /// A key row and the state of its producer.
    struct KeyRecord: Equatable {
        var status: String
        var producerID: String
        var producerDisabled: Bool
    }

    /// Statuses an audit row keeps once it has them (docs/onboarding.md, "Registration").
    static let stickyStatuses = ["replay", "invalid_sig", "invalid_cert"]
    /// Longest `sig` text stored in an audit row: a valid one is 86–88 characters; a hostile
    /// megabyte is not worth keeping.
    static let maxStoredSignature = 256

    /// Upserts the audit row of (`fingerprint`, `nonce`). A sticky status is never overwritten;
    /// `key_fingerprint` links the key row when one exists.
    static func audit(_ pg: PGConnection, fingerprint: String, nonce: String, payload: [UInt8], signature: String,
                      status: String, reason: String?) throws(PGError) {
        let sql = """
            INSERT INTO producer_registrations AS r (fingerprint, key_fingerprint, payload, sig, nonce, status, reason)
            VALUES ($1, (SELECT fingerprint FROM producer_keys WHERE fingerprint = $1), $2::jsonb, $3, $4, $5, $6)
            ON CONFLICT (fingerprint, nonce) DO UPDATE SET
                status = CASE WHEN r.status = ANY ($7::text[]) THEN r.status ELSE EXCLUDED.status END,
                reason = CASE WHEN r.status = ANY ($7::text[]) THEN r.reason ELSE EXCLUDED.reason END,
                key_fingerprint = COALESCE(EXCLUDED.key_fingerprint, r.key_fingerprint),
                ts = now()
            """
        _ = try pg.query(sql, [fingerprint, storablePayload(payload), String(signature.prefix(maxStoredSignature)), nonce,
                               status, reason, "{" + stickyStatuses.joined(separator: ",") + "}"])
    }

    /// The payload as jsonb text, or nil when Postgres would refuse it (not JSON, or a `\u0000`
    /// escape, which jsonb cannot hold): the audit row matters more than its payload copy.
    static func storablePayload(_ payload: [UInt8]) -> String? {
        guard (try? JSONParser.parse(payload, maxDepth: RegistrationPayload.maxDepth)) != nil else { return nil }
        let canonical = String(decoding: JSONCanonical.canonicalize(payload), as: UTF8.self)
        return canonical.contains("\\u0000") ? nil : canonical
    }

    /// The key row of `fingerprint` and its producer, locked for the transaction.
    static func key(_ pg: PGConnection, fingerprint: String) throws(PGError) -> KeyRecord? {
        let r = try pg.query("""
            SELECT k.status, k.producer_id::text, p.disabled_at IS NOT NULL
            FROM producer_keys k JOIN producers p ON p.producer_id = k.producer_id
            WHERE k.fingerprint = $1
            FOR UPDATE OF k
            """, [fingerprint])
        guard r.count == 1, let status = r[0, 0], let producer = r[0, 1] else { return nil }
        return KeyRecord(status: status, producerID: producer, producerDisabled: r[0, 2] == "t")
    }

    /// True when `producerID` (any text) names an existing producer.
    static func producerExists(_ pg: PGConnection, _ producerID: String) throws(PGError) -> Bool {
        guard let id = EventUUID(producerID) else { return false }
        return try pg.query("SELECT 1 FROM producers WHERE producer_id = $1::uuid", [id.description]).count == 1
    }

    /// Creates a producer named `name`; when the name is taken, `name-<8 chars of fp>`, then with a
    /// counter (a new key never joins an existing producer by name, which would let
    /// anyone attach keys to a producer by guessing its name).
    static func createProducer(_ pg: PGConnection, name: String, description: String?, fingerprint: String) throws(PGError) -> String {
        let tag = String(fingerprint.prefix(8))
        var candidates = [name, name + "-" + tag]
        for n in 2...5 { candidates.append(name + "-" + tag + "-" + String(n)) }
        for candidate in candidates {
            let r = try pg.query("""
                INSERT INTO producers (name, description) VALUES ($1, $2)
                ON CONFLICT (name) DO NOTHING RETURNING producer_id::text
                """, [candidate, description])
            if let id = r.scalar { return id }
        }
        // Still taken: a random suffix cannot collide in practice.
        let r = try pg.query("INSERT INTO producers (name, description) VALUES ($1 || '-' || gen_random_uuid()::text, $2) RETURNING producer_id::text",
                             [name, description])
        guard let id = r.scalar else { throw PGError(clientReason: "producer_not_created", kind: .other, message: "no producer id returned") }
        return id
    }

    /// Inserts a `pending` key bound to `producerID`; false if the fingerprint exists already
    /// (another kernel inserted it first).
    static func insertPendingKey(_ pg: PGConnection, fingerprint: String, producerID: String, pubkey: String) throws(PGError) -> Bool {
        let r = try pg.query("""
            INSERT INTO producer_keys (fingerprint, producer_id, pubkey, status) VALUES ($1, $2::uuid, $3, 'pending')
            ON CONFLICT (fingerprint) DO NOTHING
            """, [fingerprint, producerID, pubkey])
        return r.affectedRows == 1
    }

    /// Sets or clears `producers.disabled_at`.
    static func setDisabled(_ pg: PGConnection, producerID: String, _ disabled: Bool) throws(PGError) {
        _ = try pg.query(disabled
                     ? "UPDATE producers SET disabled_at = now() WHERE producer_id = $1::uuid"
                     : "UPDATE producers SET disabled_at = NULL WHERE producer_id = $1::uuid AND disabled_at IS NOT NULL",
                         [producerID])
    }
}
