import KernelEvents
import KernelPostgres
import KernelRedis
import Logging

/// The facts the ingest checks need about producers, tokens, subjects and schemas, cached so the
/// steady state costs hash lookups, not queries. Owned by the processor thread (not thread-safe).
///
/// Freshness bounds (the caches "see changes"):
/// - revoked tokens and disabled producers: re-read every `refreshSeconds` (default 1 s), so a
///   revocation or a deregistration takes effect within that bound (issue: within 5 s);
/// - producer↔subject bindings: positive answers kept `bindingTTL`, negative ones `negativeTTL`;
/// - a subject's current schema: kept `schemaTTL`; schema rows themselves are immutable.
/// Lookup errors follow SPEC §7: token state unknown ⇒ refused, disabled ⇒ not disabled,
/// binding ⇒ forbidden, schema ⇒ missing.
final class IngestDirectory {
    struct Schema: Sendable {
        var schemaID: EventUUID
        var family: String
        var version: UInt32
    }

    let dsn: String
    let keyPrefix: String
    let logger: Logger
    var refreshSeconds = 1.0
    var bindingTTL = 60.0
    var negativeTTL = 1.0
    var schemaTTL = 2.0
    var redisSchemaTTLSeconds = 3600

    private var pg: PGConnection?
    private var redis: RedisConnection?
    private let redisSettings: RedisSettings?
    private var lastRefresh = -Double.infinity
    private var revokedWatermark = "-infinity"
    private var revoked: Set<String> = []
    private var disabled: Set<EventUUID> = []
    private var tokens: [String: (producer: EventUUID, known: Bool, at: Double)] = [:]
    private var bindings: [Pair: (bound: Bool, at: Double)] = [:]
    private var subjectSchemas: [EventUUID: (schema: Schema?, at: Double)] = [:]
    private var schemas: [EventUUID: Schema] = [:]

    struct Pair: Hashable { var producer: EventUUID; var subject: EventUUID }

    init(dsn: String, keyPrefix: String, redis: RedisSettings?, logger: Logger) {
        self.dsn = dsn
        self.keyPrefix = keyPrefix
        self.redisSettings = redis
        self.logger = logger
    }

    // MARK: refresh

    /// Re-reads revocations and disabled producers when due. Called before each chunk.
    func refreshIfDue(now: Double) {
        guard now - lastRefresh >= refreshSeconds else { return }
        lastRefresh = now
        do {
            let pg = try connection()
            let rows = try pg.query("SELECT jti, revoked_at::text FROM revoked_tokens WHERE revoked_at >= $1::timestamptz - interval '5 seconds' ORDER BY revoked_at", [revokedWatermark])
            for row in rows.rows {
                if let jti = row[0] { revoked.insert(jti) }
                if let at = row[1] { revokedWatermark = at }
            }
            let off = try pg.query("SELECT producer_id::text FROM producers WHERE disabled_at IS NOT NULL")
            disabled = Set(off.rows.compactMap { $0[0].flatMap { EventUUID($0) } })
        } catch {
            dropConnection(error)
        }
    }

    // MARK: checks

    func isRevoked(jti: String) -> Bool { revoked.contains(jti) }

    func isDisabled(_ producer: EventUUID) -> Bool { disabled.contains(producer) }

    /// True if `jti` was issued by this kernel family to `producer` (SPEC §5.5 step 3).
    func isIssued(jti: String, to producer: EventUUID, now: Double) -> Bool {
        if let cached = tokens[jti], cached.known || now - cached.at < negativeTTL {
            return cached.known && cached.producer == producer
        }
        do {
            let pg = try connection()
            let r = try pg.query("SELECT producer_id::text, revoked_at IS NOT NULL FROM producer_tokens WHERE jti = $1 AND expires_at > now()", [jti])
            guard r.count == 1, let p = r[0, 0].flatMap({ EventUUID($0) }) else {
                logger.debug("token not issued or expired", metadata: [
                    "event": "auth", "component": "ingest", "jti": .string(jti), "rows": "\(r.count)",
                ])
                tokens[jti] = (producer, false, now)
                return false
            }
            if r[0, 1] == "t" { revoked.insert(jti) }
            tokens[jti] = (p, true, now)
            return p == producer
        } catch {
            dropConnection(error)
            return false
        }
    }

    func isBound(_ producer: EventUUID, _ subject: EventUUID, now: Double) -> Bool {
        let key = Pair(producer: producer, subject: subject)
        if let cached = bindings[key], now - cached.at < (cached.bound ? bindingTTL : negativeTTL) {
            return cached.bound
        }
        do {
            let pg = try connection()
            let r = try pg.query("SELECT 1 FROM producer_subjects WHERE producer_id = $1::uuid AND subject_id = $2::uuid",
                                 [producer.description, subject.description])
            bindings[key] = (r.count == 1, now)
            return r.count == 1
        } catch {
            dropConnection(error)
            return false
        }
    }

    /// The subject's current schema: local cache, then the Redis key `P+schemas:<subject_id>`
    /// (refreshing its TTL), then Postgres (and the Redis key is set, SPEC §7).
    func currentSchema(of subject: EventUUID, now: Double) -> Schema? {
        if let cached = subjectSchemas[subject], now - cached.at < (cached.schema == nil ? negativeTTL : schemaTTL) {
            return cached.schema
        }
        var schemaID: EventUUID?
        let redisKey = keyPrefix + "schemas:" + subject.description
        if let redis = redisConnection() {
            do {
                let reply = try redis.command(["GET", redisKey])
                if let text = reply.text, let id = EventUUID(text) {
                    schemaID = id
                    _ = try redis.command(["EXPIRE", redisKey, String(redisSchemaTTLSeconds)])
                }
            } catch {
                self.redis = nil
            }
        }
        do {
            let pg = try connection()
            if schemaID == nil {
                let r = try pg.query("SELECT current_schema_id::text FROM subjects WHERE subject_id = $1::uuid", [subject.description])
                schemaID = r.scalar.flatMap { EventUUID($0) }
                if let schemaID, let redis = redisConnection() {
                    _ = try? redis.command(["SET", redisKey, schemaID.description, "EX", String(redisSchemaTTLSeconds)])
                }
            }
            guard let schemaID else {
                subjectSchemas[subject] = (nil, now)
                return nil
            }
            let schema = try schemaRow(schemaID, pg)
            subjectSchemas[subject] = (schema, now)
            return schema
        } catch {
            dropConnection(error)
            return nil
        }
    }

    private func schemaRow(_ id: EventUUID, _ pg: PGConnection) throws(PGError) -> Schema? {
        if let known = schemas[id] { return known }
        let r = try pg.query("SELECT name, version FROM schemas WHERE schema_id = $1::uuid", [id.description])
        guard r.count == 1, let name = r[0, 0], let version = r[0, 1].flatMap({ UInt32($0) }) else { return nil }
        let schema = Schema(schemaID: id, family: name, version: version)
        schemas[id] = schema
        return schema
    }

    // MARK: connections

    private func connection() throws(PGError) -> PGConnection {
        if let pg, pg.isConnected { return pg }
        let c = try PGConnection(dsn: dsn, logger: logger)
        pg = c
        return c
    }

    private func redisConnection() -> RedisConnection? {
        if let redis, redis.isOpen { return redis }
        guard let redisSettings else { return nil }
        redis = try? redisSettings.connect()
        return redis
    }

    private func dropConnection(_ error: PGError) {
        logger.error("ingest lookup failed", metadata: [
            "event": "infra", "component": "ingest", "reason_code": .string(error.reasonCode), "details": .string(error.message),
        ])
        if error.kind == .connectivity {
            pg?.close()
            pg = nil
        }
    }

    /// Forgets everything cached (tests; SIGHUP).
    func reset() {
        tokens = [:]
        bindings = [:]
        subjectSchemas = [:]
        lastRefresh = -Double.infinity
    }
}
