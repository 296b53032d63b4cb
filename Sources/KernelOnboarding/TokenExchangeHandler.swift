import KernelAuth
import KernelEvents
import KernelPostgres
import Logging

/// Token exchange and renewal on `P+token:exchange` (docs/onboarding.md, "Token exchange"). Every failure is silent (the
/// message is acknowledged, nothing is answered) and logged; a token goes to
/// `P+"token:resp:"+producer_id` with the response TTL.
///
/// - Renewal (`token` non-empty): the token verifies (docs/protocol.md, "Tokens": signature and claims, then the
///   database: issued, unrevoked, unexpired, same producer) → producer not disabled → rate limit
///   `token` → a new token without `fp`/`sid` → `{producer_id, token, exp}`.
/// - By certificate (`pubkey`, `payload`, `nonce`, `sig`): certificate and signature (docs/protocol.md, "OpenSSH certificates";
///   the same checks as registration) → key `approved` → producer not disabled → nonce guard
///   `nonce:token:<producer_id>:<nonce>` → rate limit `token` → a token with
///   `fp` → `{fingerprint, producer_id, token, exp}`.
public final class TokenExchangeHandler: ControlMessageHandler {
    public let streamSuffix = "token:exchange"
    let check: ProducerRequestCheck
    let limiter: RateLimiter
    let nonces = NonceGuard()
    let responses = ResponseWriter()
    /// Token-exchange nonces are remembered this long (docs/onboarding.md, "Rate limits and anti-replay").
    static let nonceTTLSeconds = 600

    public init(settings: OnboardingSettings) {
        check = ProducerRequestCheck(settings: settings)
        limiter = RateLimiter(settings: settings)
    }

    /// Why a request got no token (stable codes for logs).
    struct Refusal: Error {
        var reason: String
        var detail: String?
        var fingerprint: String?
        var producerID: String?
        var level: Logger.Level = .warning
    }

    /// What to issue and answer.
    struct Grant {
        var producer: EventUUID
        var fingerprint: String?
        var notes: String
    }

    public func handle(_ message: ControlMessage, context: ControlContext) {
        let renewal = message.nonEmptyString("token") != nil
        do throws(Refusal) {
            let grant = renewal ? try renew(message, context) : try exchange(message, context)
            try issue(grant, context)
        } catch {
            var metadata: Logger.Metadata = [
                "event": "token", "component": "onboarding", "stage": "exchange",
                "action": .string(renewal ? "renewal" : "exchange"), "outcome": "denied",
                "reason_code": .string(error.reason),
            ]
            if let detail = error.detail { metadata["details"] = .string(detail) }
            if let fingerprint = error.fingerprint { metadata["fingerprint"] = .string(fingerprint) }
            if let producer = error.producerID { metadata["producer_id"] = .string(producer) }
            context.logger.log(level: error.level, "token not issued", metadata: metadata)
        }
    }

    // MARK: renewal

    private func renew(_ message: ControlMessage, _ context: ControlContext) throws(Refusal) -> Grant {
        let token = message.bytes("token") ?? []
        let verified: VerifiedToken
        switch context.settings.verifier.verify(token, nowSeconds: context.now()) {
        case .success(let v): verified = v
        case .failure(let error): throw Refusal(reason: error.code)
        }
        let producer = verified.producer
        // Step 3 of docs/protocol.md, "Tokens": a cached revocation marker, then the database (the authority).
        if let marker = try? context.redis.command(["EXISTS", context.key("revoked:jti:" + verified.jti)]), marker.integer == 1 {
            throw Refusal(reason: "token_revoked", producerID: producer.description)
        }
        let state: TokenState?
        do throws(PGError) {
            state = try TokenState.load(try context.postgres(), jti: verified.jti)
        } catch {
            context.discardPostgres(after: error)
            // DB error ⇒ treated as revoked (docs/protocol.md, "Tokens").
            throw Refusal(reason: "token_state_unavailable", detail: error.message, producerID: producer.description, level: .error)
        }
        guard let state else { throw Refusal(reason: "unknown_or_mismatched_token", producerID: producer.description) }
        if state.revoked { throw Refusal(reason: "token_revoked", producerID: producer.description) }
        guard !state.expired, state.producerID == producer.description else {
            throw Refusal(reason: "unknown_or_mismatched_token", producerID: producer.description)
        }
        if state.producerDisabled { throw Refusal(reason: "producer_disabled", producerID: producer.description) }
        try rateLimit(producer.description, context)
        return Grant(producer: producer, fingerprint: nil, notes: "renewal")
    }

    // MARK: exchange by certificate

    private func exchange(_ message: ControlMessage, _ context: ControlContext) throws(Refusal) -> Grant {
        guard let pubkey = message.bytes("pubkey"), !pubkey.isEmpty,
              let payload = message.bytes("payload"), !payload.isEmpty,
              let nonce = message.nonEmptyString("nonce"), let signature = message.nonEmptyString("sig") else {
            throw Refusal(reason: "missing_fields")
        }
        let key: CheckedProducerKey
        switch check.check(pubkey: pubkey, payload: payload, nonce: nonce, signature: signature, now: context.now(),
                           flow: .tokenExchange) {
        case .invalidCertificate(let error, let fingerprint):
            throw Refusal(reason: "certificate_verification_failed",
                          detail: error.description, fingerprint: fingerprint)
        case .invalidSignature(let fingerprint):
            context.metrics.canonicalVerifyFailures.add(1, ordering: .relaxed)
            throw Refusal(reason: "signature_verification_failed", fingerprint: fingerprint)
        case .ok(let checked):
            key = checked
        }
        let record: RegistrationStore.KeyRecord?
        do throws(PGError) {
            record = try KeyLookup.key(try context.postgres(), fingerprint: key.fingerprint)
        } catch {
            context.discardPostgres(after: error)
            throw Refusal(reason: error.reasonCode, detail: error.message, fingerprint: key.fingerprint, level: .error)
        }
        guard let record, record.status == "approved", let producer = EventUUID(record.producerID) else {
            throw Refusal(reason: "key_not_approved", detail: record.map { "key status \($0.status)" } ?? "unknown key",
                          fingerprint: key.fingerprint, producerID: record?.producerID)
        }
        if record.producerDisabled {
            throw Refusal(reason: "producer_disabled", fingerprint: key.fingerprint, producerID: record.producerID)
        }
        // The nonce before the rate limit: a replayed message must not use up the producer's bucket.
        let nonceKey = context.key("nonce:token:" + record.producerID + ":" + nonce)
        let claim = nonces.claim(key: nonceKey, ttlSeconds: Self.nonceTTLSeconds, onRedisError: .allow, redis: context.redis) { error in
            context.logger.error("nonce guard unavailable; allowing", metadata: [
                "event": "token", "component": "onboarding", "reason_code": "nonce_guard_error", "details": .string(error),
            ])
        }
        guard claim == .fresh else {
            throw Refusal(reason: "duplicate_nonce", fingerprint: key.fingerprint, producerID: record.producerID)
        }
        try rateLimit(record.producerID, context, fingerprint: key.fingerprint)
        return Grant(producer: producer, fingerprint: key.fingerprint, notes: "exchange")
    }

    private func rateLimit(_ producerID: String, _ context: ControlContext, fingerprint: String? = nil) throws(Refusal) {
        let decision = limiter.allow(op: "token", identity: producerID, redis: context.redis)
        context.metrics.rateDecision(op: "token", allowed: decision.isAllowed)
        switch decision {
        case .allowed: return
        case .denied:
            context.metrics.rateLimited.add(1, ordering: .relaxed)
            throw Refusal(reason: "rate_limited", fingerprint: fingerprint, producerID: producerID)
        case .error(let detail):
            context.metrics.rateLimitErrors.add(1, ordering: .relaxed)
            context.metrics.rateLimited.add(1, ordering: .relaxed)
            throw Refusal(reason: "rate_limit_error", detail: detail, fingerprint: fingerprint, producerID: producerID, level: .error)
        }
    }

    // MARK: issuance

    private func issue(_ grant: Grant, _ context: ControlContext) throws(Refusal) {
        let producer = grant.producer.description
        guard let issuer = context.settings.issuer else {
            throw Refusal(reason: "no_issuer_key", fingerprint: grant.fingerprint, producerID: producer, level: .error)
        }
        let issued = issuer.issue(producer: grant.producer, subject: nil, fingerprint: grant.fingerprint,
                                  ttlSeconds: context.settings.tokenTTLSeconds, nowSeconds: context.now())
        do throws(PGError) {
            _ = try context.postgres().query("""
                INSERT INTO producer_tokens (producer_id, jti, issued_at, expires_at, notes)
                VALUES ($1::uuid, $2, to_timestamp($3::bigint), to_timestamp($4::bigint), $5)
                """, [producer, issued.jti, String(issued.issuedAt), String(issued.expiresAt), grant.notes])
        } catch {
            context.discardPostgres(after: error)
            throw Refusal(reason: error.reasonCode, detail: error.message, fingerprint: grant.fingerprint, producerID: producer,
                          level: .error)
        }
        var fields: [(String, String)] = []
        if let fingerprint = grant.fingerprint { fields.append(("fingerprint", fingerprint)) }
        fields += [("producer_id", producer), ("token", issued.token), ("exp", issued.expRFC3339)]
        let sent = responses.respond(stream: context.key("token:resp:" + producer), fields: fields,
                                     ttlSeconds: context.settings.responseTTLSeconds, redis: context.redis)
        context.metrics.tokensIssued.add(1, ordering: .relaxed)
        var metadata: Logger.Metadata = [
            "event": "token", "component": "onboarding", "stage": "exchange", "action": .string(grant.notes),
            "outcome": sent ? "success" : "failure", "producer_id": .string(producer), "jti": .string(issued.jti),
        ]
        if let fingerprint = grant.fingerprint { metadata["fingerprint"] = .string(fingerprint) }
        if !sent { metadata["reason_code"] = "response_not_written" }
        context.logger.log(level: sent ? .info : .error, "token issued", metadata: metadata)
    }
}

/// The database state of a presented token (docs/protocol.md, "Tokens", step 3).
struct TokenState {
    var producerID: String
    var revoked: Bool
    var expired: Bool
    var producerDisabled: Bool

    static func load(_ pg: PGConnection, jti: String) throws(PGError) -> TokenState? {
        let r = try pg.query("""
            SELECT t.producer_id::text,
                   t.revoked_at IS NOT NULL OR EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = t.jti),
                   t.expires_at <= now(),
                   p.disabled_at IS NOT NULL
            FROM producer_tokens t JOIN producers p ON p.producer_id = t.producer_id
            WHERE t.jti = $1
            """, [jti])
        guard r.count == 1, let producer = r[0, 0] else {
            // A jti revoked without ever being issued here is still revoked.
            return nil
        }
        return TokenState(producerID: producer, revoked: r[0, 1] == "t", expired: r[0, 2] == "t", producerDisabled: r[0, 3] == "t")
    }
}

/// Read-only key lookup (no row lock: token exchange changes nothing on the key).
enum KeyLookup {
    static func key(_ pg: PGConnection, fingerprint: String) throws(PGError) -> RegistrationStore.KeyRecord? {
        let r = try pg.query("""
            SELECT k.status, k.producer_id::text, p.disabled_at IS NOT NULL
            FROM producer_keys k JOIN producers p ON p.producer_id = k.producer_id
            WHERE k.fingerprint = $1
            """, [fingerprint])
        guard r.count == 1, let status = r[0, 0], let producer = r[0, 1] else { return nil }
        return RegistrationStore.KeyRecord(status: status, producerID: producer, producerDisabled: r[0, 2] == "t")
    }
}
