import KernelAuth
import KernelJSON
import KernelPostgres
import KernelRedis

/// The admin API's storage operations (docs/admin.md, "Endpoints"), synchronous: they run on a
/// `BlockingWorker` thread with its connections.
enum AdminStore {
    /// RFC 3339 UTC with microseconds, formatted by Postgres.
    static func rfc3339(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    }

    // MARK: Listing (GET /auth)

    /// `filter=pending`: audit rows with status `pending`, newest first, at most 100.
    static func pending(_ pg: PGConnection) throws(PGError) -> JSONValue {
        let result = try pg.query("""
            SELECT r.fingerprint, \(rfc3339("r.ts")), k.producer_id::text, p.name
              FROM producer_registrations r
              LEFT JOIN producer_keys k ON k.fingerprint = r.fingerprint
              LEFT JOIN producers p ON p.producer_id = k.producer_id
             WHERE r.status = 'pending'
             ORDER BY r.ts DESC, r.reg_id
             LIMIT 100
            """)
        return .array(result.rows.map { row in
            .object(JSONObject([
                ("fingerprint", .string(row[0] ?? "")),
                ("ts", .string(row[1] ?? "")),
                ("producer_id", row[2].map(JSONValue.string) ?? .null),
                ("name", row[3].map(JSONValue.string) ?? .null),
            ]))
        })
    }

    /// `filter=all|registered|active`: producers with their best key status (approved > pending >
    /// superseded > revoked, else `unknown`; `active` for the active filter); `long` adds the
    /// approved key and the newest token.
    static func producers(_ pg: PGConnection, filter: ListFilter, long: Bool) throws(PGError) -> JSONValue {
        let condition: String
        switch filter {
        case .all, .pending: condition = "true"
        case .registered: condition = "EXISTS (SELECT 1 FROM producer_keys k WHERE k.producer_id = p.producer_id)"
        case .active:
            condition = """
                EXISTS (SELECT 1 FROM producer_tokens t
                         WHERE t.producer_id = p.producer_id AND t.revoked_at IS NULL AND t.expires_at > now()
                           AND NOT EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = t.jti))
                """
        }
        let result = try pg.query("""
            SELECT p.producer_id::text, p.name, p.description, \(rfc3339("p.created_at")),
                   (SELECT k.status FROM producer_keys k WHERE k.producer_id = p.producer_id
                     ORDER BY CASE k.status WHEN 'approved' THEN 0 WHEN 'pending' THEN 1
                                            WHEN 'superseded' THEN 2 WHEN 'revoked' THEN 3 ELSE 4 END
                     LIMIT 1),
                   (SELECT k.fingerprint FROM producer_keys k WHERE k.producer_id = p.producer_id AND k.status = 'approved'),
                   t.jti, \(rfc3339("t.expires_at")),
                   CASE WHEN t.jti IS NULL THEN 'unknown'
                        WHEN t.revoked_at IS NOT NULL OR EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = t.jti) THEN 'revoked'
                        WHEN t.expires_at <= now() THEN 'expired'
                        ELSE 'active' END
              FROM producers p
              LEFT JOIN LATERAL (SELECT jti, expires_at, revoked_at FROM producer_tokens
                                  WHERE producer_id = p.producer_id ORDER BY issued_at DESC, jti DESC LIMIT 1) t ON true
             WHERE \(condition)
             ORDER BY p.created_at DESC, p.producer_id
            """)
        return .array(result.rows.map { row in
            var members: [(key: String, value: JSONValue)] = [
                ("producer_id", .string(row[0] ?? "")),
                ("name", .string(row[1] ?? "")),
            ]
            if let description = row[2] { members.append(("description", .string(description))) }
            members.append(("status", .string(filter == .active ? "active" : (row[4] ?? "unknown"))))
            members.append(("created_at", .string(row[3] ?? "")))
            if long {
                members.append(("active_key", .string(row[5] ?? "")))
                members.append(("access_token_jti", .string(row[6] ?? "")))
                members.append(("token_expires", .string(row[7] ?? "")))
                members.append(("token_status", .string(row[8] ?? "unknown")))
            }
            return .object(JSONObject(members))
        })
    }

    // MARK: Review (POST /auth/review)

    enum ApprovalType: String, Sendable {
        case newProducer = "new_producer"
        case keyRotation = "key_rotation"
    }

    /// Does `producerID` already have an approved key? (decides rotation vs new producer).
    /// A failure here is the 500 of docs/admin.md, "POST /auth/review".
    static func hasApprovedKey(_ pg: PGConnection, producerID: String) throws(PGError) -> Bool {
        try pg.query("SELECT 1 FROM producer_keys WHERE producer_id = $1::uuid AND status = 'approved'", [producerID]).count > 0
    }

    /// Approves a pending key in one transaction, through the SQL functions of migration 0007: a
    /// new producer's first key (`approve_producer_key_new`) or a rotation (`approve_key_rotation`:
    /// the old approved key → superseded by the new one). Pending audit rows of the key → approved.
    static func approve(_ pg: PGConnection, type: ApprovalType, producerID: String, fingerprint: String,
                        notes: String?, reviewer: String) throws(PGError) {
        let function = type == .keyRotation ? "approve_key_rotation" : "approve_producer_key_new"
        try pg.transaction { () throws(PGError) in
            _ = try pg.query("SELECT \(function)($1, $2::uuid, $3, $4)", [fingerprint, producerID, reviewer, notes])
        }
    }

    /// Denies a key (`reject_producer_key`): any status → revoked (notes = reason); its pending
    /// audit rows → rejected.
    static func deny(_ pg: PGConnection, fingerprint: String, reason: String, reviewer: String) throws(PGError) {
        try pg.transaction { () throws(PGError) in
            _ = try pg.query("SELECT reject_producer_key($1, $2, $3)", [fingerprint, reviewer, reason])
        }
    }

    /// The nonce of the newest genuine audit row for `fingerprint`: the waiting producer's response
    /// stream. Rows of refused requests (bad signature or certificate, replays, rejections) do not
    /// count: anyone can send a victim's public certificate with a nonce of their choosing, and the
    /// approval notice must not go to that stream.
    static func newestNonce(_ pg: PGConnection, fingerprint: String) throws(PGError) -> String? {
        try pg.query("""
            SELECT nonce FROM producer_registrations
            WHERE fingerprint = $1 AND status NOT IN ('replay', 'invalid_sig', 'invalid_cert', 'rejected')
            ORDER BY ts DESC, reg_id DESC LIMIT 1
            """, [fingerprint]).scalar
    }

    /// XADD `{fingerprint, producer_id, status: approved}` to `P+"register:resp:"+nonce`, then
    /// EXPIRE (docs/protocol.md, "Streams and fields"; docs/admin.md, "POST /auth/review").
    static func notifyApproval(_ redis: any RedisClient, prefix: String, nonce: String, fingerprint: String,
                               producerID: String, ttlSeconds: Int) throws(RedisError) {
        let stream = prefix + "register:resp:" + nonce
        let replies = try redis.pipeline([
            ["XADD", stream, "*", "fingerprint", fingerprint, "producer_id", producerID, "status", "approved"].map { Array($0.utf8) },
            ["EXPIRE", stream, String(ttlSeconds > 0 ? ttlSeconds : 300)].map { Array($0.utf8) },
        ])
        if let failure = replies.first(where: { if case .error = $0 { true } else { false } }), case .error(let message) = failure {
            throw RedisError(kind: .reply, message: message)
        }
    }

    // MARK: Revoke (POST /auth/revoke)

    /// Revoked markers live 30 days (docs/protocol.md, "Tokens").
    static let revokedMarkerTTLSeconds = 30 * 24 * 3600

    /// Upserts `revoked_tokens`, stamps `producer_tokens.revoked_at`. Returns whether the jti
    /// was a known token.
    static func revoke(_ pg: PGConnection, jti: String, reason: String?) throws(PGError) -> Bool {
        try pg.transaction { () throws(PGError) in
            _ = try pg.query("""
                INSERT INTO revoked_tokens (jti, revoked_at, reason) VALUES ($1, now(), $2)
                ON CONFLICT (jti) DO UPDATE SET revoked_at = now(), reason = EXCLUDED.reason
                """, [jti, reason])
            let tokens = try pg.query("""
                UPDATE producer_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE jti = $1 RETURNING token_id
                """, [jti])
            return tokens.count > 0
        }
    }

    /// `SET P+"revoked:jti:"+jti 1 EX 30d` and `DEL P+"auth:jti:"+jti`: the running verifiers'
    /// caches refuse the token from now on. With an `announcement`, also `PUBLISH` it on
    /// `P+"ingest:revocations"`: the other kernels' ingest refuses the token within a second
    /// (docs/architecture.md, "Deregistrations and revocations").
    static func markRevoked(_ redis: any RedisClient, prefix: String, jti: String, announcement: String? = nil) throws(RedisError) {
        var commands = [
            ["SET", prefix + "revoked:jti:" + jti, "1", "EX", String(revokedMarkerTTLSeconds)].map { Array($0.utf8) },
            ["DEL", prefix + "auth:jti:" + jti].map { Array($0.utf8) },
        ]
        if let announcement {
            commands.append(["PUBLISH", IngestRevocations.channel(keyPrefix: prefix), announcement].map { Array($0.utf8) })
        }
        let replies = try redis.pipeline(commands)
        if let failure = replies.first(where: { if case .error = $0 { true } else { false } }), case .error(let message) = failure {
            throw RedisError(kind: .reply, message: message)
        }
    }
}

/// `GET /auth?filter=`.
enum ListFilter: String, Sendable {
    case pending, all, active, registered
}
