import KernelAuth
import KernelEvents
import KernelPostgres
import KernelRedis
import Logging

/// The facts the ingest checks need about producers, tokens, subjects and schemas, cached so the
/// steady state costs hash lookups, not queries. Owned by the processor thread (not thread-safe).
///
/// Freshness bounds (the caches "see changes"):
/// - revoked tokens and disabled producers: changes made by this kernel (and those other kernels
///   announce) come through `revocations`, applied before every chunk, so a deregistration or a
///   revocation this kernel answered holds for every entry read after the answer; Postgres is
///   re-read every `refreshSeconds` (`auth.revocation_check_seconds`) and whenever `revocations`
///   asks for it, which catches changes made outside the kernels and lost notifications
///   (docs/architecture.md, "Deregistrations and revocations");
/// - producer↔subject bindings: positive answers kept `bindingTTL`, negative ones `negativeTTL`;
/// - a subject's current schema: kept `schemaTTL`; schema rows themselves are immutable.
/// Lookup errors: a data or permission error refuses as docs/protocol.md, "Ingest checks, in order" says (token state unknown ⇒ refused,
/// disabled ⇒ not disabled, binding ⇒ forbidden, schema ⇒ missing). An unreachable Postgres is
/// not an answer: an outage must not dead-letter good events (they spill instead). Then the last
/// known answer is used, however old; with none, the lookup waits for Postgres (the queues fill
/// and the reader stops) until it answers or the pipeline gives up at shutdown, when the entry is
/// left pending for redelivery (`LookupDeferred`).
final class IngestDirectory {
    struct Schema: Sendable {
        var schemaID: EventUUID
        var family: String
        var version: UInt32
    }

    let dsn: String
    let keyPrefix: String
    let logger: Logger
    /// `auth.revocation_check_seconds`: the fallback re-read of revocations and disabled producers.
    var refreshSeconds = 1.0
    /// Changes recorded in this process (handlers, notifications); nil in tools and tests that
    /// run a pipeline alone.
    var revocations: IngestRevocations?
    var bindingTTL = 60.0
    var negativeTTL = 1.0
    var schemaTTL = 2.0
    var redisSchemaTTLSeconds = 3600
    /// Polled while a lookup waits for Postgres: true ⇒ stop waiting and defer the entry.
    var giveUp: @Sendable () -> Bool = { false }

    private var pg: PGConnection?
    /// One connection attempt per backoff period, never one per event: while Postgres is down,
    /// lookups answer from the cache at once (or wait) instead of each trying to connect.
    private var connectBackoff = Backoff(baseMs: 100, maxMs: 2000)
    private var nextConnectAt = -Double.infinity
    private var failureLog = LogThrottle()
    private var redis: (any RedisClient)?
    private let redisSettings: RedisSettings?
    private var lastRefresh = -Double.infinity
    /// `revocations.currentVersion` when last looked at; the changes applied up to `appliedSeq`;
    /// the reload requests seen.
    private var seenVersion: UInt64?
    private var appliedSeq: UInt64 = 0
    private var seenReloads: UInt64 = 0
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

    /// Applies the changes recorded in this process since the last chunk, and re-reads
    /// revocations and disabled producers from Postgres when due or asked to. Called before each
    /// chunk, after it was taken from the queue: a change recorded before a handler answered is
    /// applied before any entry read after the answer is checked.
    func refreshIfDue(now: Double) {
        var reload = now - lastRefresh >= refreshSeconds
        var pending: IngestRevocations.Pending?
        if let revocations {
            let version = revocations.currentVersion
            if version != seenVersion {
                seenVersion = version
                let p = revocations.changes(after: appliedSeq)
                if p.reloads != seenReloads || p.gap {
                    seenReloads = p.reloads
                    reload = true
                }
                pending = p
            }
        }
        if reload {
            lastRefresh = now
            // Every change recorded up to here was committed first, so the read below sees it.
            let covered = revocations?.lastSeq
            if readFromPostgres(), let covered, covered > appliedSeq {
                appliedSeq = covered
                pending = revocations?.changes(after: covered)
            }
        }
        if let pending { apply(pending) }
    }

    /// The changes the last Postgres read may not have seen, in the order they were recorded.
    private func apply(_ pending: IngestRevocations.Pending) {
        for change in pending.changes {
            switch change {
            case .tokenRevoked(let jti): revoked.insert(jti)
            case .producerDisabled(let producer): disabled.insert(producer)
            case .producerEnabled(let producer): disabled.remove(producer)
            }
        }
        appliedSeq = max(appliedSeq, pending.last)
    }

    /// Re-reads revocations (since the watermark) and every disabled producer. False when
    /// Postgres did not answer (the last known sets stay).
    private func readFromPostgres() -> Bool {
        do {
            let pg = try connection()
            let rows = try pg.query("SELECT jti, revoked_at::text FROM revoked_tokens WHERE revoked_at >= $1::timestamptz - interval '5 seconds' ORDER BY revoked_at", [revokedWatermark])
            for row in rows.rows {
                if let jti = row[0] { revoked.insert(jti) }
                if let at = row[1] { revokedWatermark = at }
            }
            let off = try pg.query("SELECT producer_id::text FROM producers WHERE disabled_at IS NOT NULL")
            disabled = Set(off.rows.compactMap { $0[0].flatMap { EventUUID($0) } })
            return true
        } catch {
            dropConnection(error)
            return false
        }
    }

    // MARK: checks

    func isRevoked(jti: String) -> Bool { revoked.contains(jti) }

    func isDisabled(_ producer: EventUUID) -> Bool { disabled.contains(producer) }

    /// True if `jti` was issued by this kernel family to `producer` (docs/protocol.md, "Tokens", step 3).
    func isIssued(jti: String, to producer: EventUUID, now: Double) throws(LookupDeferred) -> Bool {
        let cached = tokens[jti]
        if let cached, cached.known || now - cached.at < negativeTTL {
            return cached.known && cached.producer == producer
        }
        let stale: Bool? = cached.map { $0.known && $0.producer == producer }
        let answer = try lookup(stale: stale) { pg throws(PGError) -> Bool in
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
        }
        return answer ?? false
    }

    func isBound(_ producer: EventUUID, _ subject: EventUUID, now: Double) throws(LookupDeferred) -> Bool {
        let key = Pair(producer: producer, subject: subject)
        let cached = bindings[key]
        if let cached, now - cached.at < (cached.bound ? bindingTTL : negativeTTL) {
            return cached.bound
        }
        let answer = try lookup(stale: cached?.bound) { pg throws(PGError) -> Bool in
            let r = try pg.query("SELECT 1 FROM producer_subjects WHERE producer_id = $1::uuid AND subject_id = $2::uuid",
                                 [producer.description, subject.description])
            bindings[key] = (r.count == 1, now)
            return r.count == 1
        }
        return answer ?? false
    }

    /// The subject's current schema: local cache, then the Redis key `P+schemas:<subject_id>`
    /// (refreshing its TTL), then Postgres (and the Redis key is set).
    func currentSchema(of subject: EventUUID, now: Double) throws(LookupDeferred) -> Schema? {
        let cached = subjectSchemas[subject]
        if let cached, now - cached.at < (cached.schema == nil ? negativeTTL : schemaTTL) {
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
        // Schema rows are immutable: a known id needs no query.
        if let schemaID, let known = schemas[schemaID] {
            subjectSchemas[subject] = (known, now)
            return known
        }
        let found = schemaID
        // One level of optional for "no schema", one for "no answer": boxed to keep them apart.
        struct Answer { var schema: Schema? }
        let answer = try lookup(stale: cached.map { Answer(schema: $0.schema) }) { pg throws(PGError) -> Answer in
            var id = found
            if id == nil {
                let r = try pg.query("SELECT current_schema_id::text FROM subjects WHERE subject_id = $1::uuid", [subject.description])
                id = r.scalar.flatMap { EventUUID($0) }
                if let id, let redis = redisConnection() {
                    _ = try? redis.command(["SET", redisKey, id.description, "EX", String(redisSchemaTTLSeconds)])
                }
            }
            guard let id else {
                subjectSchemas[subject] = (nil, now)
                return Answer(schema: nil)
            }
            let schema = try schemaRow(id, pg)
            subjectSchemas[subject] = (schema, now)
            return Answer(schema: schema)
        }
        return answer?.schema
    }

    /// Runs `body` on the connection. A connectivity error answers `stale` when there is one,
    /// else waits (with backoff) for Postgres, or throws `LookupDeferred` once `giveUp()`. Any
    /// other error answers nil (the caller's default, docs/protocol.md, "Ingest checks, in order").
    private func lookup<T>(stale: T?, _ body: (PGConnection) throws(PGError) -> T) throws(LookupDeferred) -> T? {
        var backoff = Backoff(baseMs: 100, maxMs: 2000)
        while true {
            do throws(PGError) {
                return try body(try connection())
            } catch {
                dropConnection(error)
                guard error.kind == .connectivity else { return nil }
                if let stale { return stale }
                if giveUp() { throw LookupDeferred() }
                sleepMs(backoff.nextDelayMs())
            }
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
        let now = monotonicSeconds()
        guard now >= nextConnectAt else {
            throw PGError(clientReason: Self.waitingReason, kind: .connectivity,
                          message: "postgres unreachable; next connection attempt in \(Int((nextConnectAt - now) * 1000)) ms")
        }
        do {
            let c = try PGConnection(dsn: dsn, logger: logger)
            pg = c
            connectBackoff.reset()
            if nextConnectAt > -Double.infinity {
                nextConnectAt = -Double.infinity
                failureLog.reset()
                logger.info("ingest lookups: postgres reachable again", metadata: ["event": "infra", "component": "ingest"])
            }
            return c
        } catch {
            nextConnectAt = now + Double(connectBackoff.nextDelayMs()) / 1000
            throw error
        }
    }

    /// The reason of the error `connection()` answers between attempts (not itself a failure).
    static let waitingReason = "pg_connect_backoff"

    private func redisConnection() -> (any RedisClient)? {
        if let redis, redis.isOpen { return redis }
        guard let redisSettings else { return nil }
        redis = try? redisSettings.connectClient()
        return redis
    }

    private func dropConnection(_ error: PGError) {
        if error.reasonCode != Self.waitingReason {
            let (log, suppressed) = failureLog.shouldLog(now: monotonicSeconds())
            if log {
                logger.error("ingest lookup failed", metadata: [
                    "event": "infra", "component": "ingest", "reason_code": .string(error.reasonCode),
                    "details": .string(error.message), "repeats_since_last_line": "\(suppressed)",
                ])
            }
        }
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

/// A lookup that could not be answered (Postgres unreachable, nothing known) when the pipeline
/// gave up waiting: the entry is left pending in Redis and redelivered later.
struct LookupDeferred: Error {}
