import KernelAuth
import KernelEvents
import KernelPostgres
import KernelRedis
import KernelSSH
import Logging

/// Producer registration and deregistration on `P+register` (docs/onboarding.md, "Registration"; docs/onboarding.md, "Deregistration"). Responses go to
/// `P+"register:resp:"+nonce` with the response TTL.
///
/// Order (docs/onboarding.md, "Registration"): 1 fields present → 2 fingerprint, payload shape → 3 rate limit (`reg`) →
/// 4 nonce guard → 5 certificate → 6 signature → 7 persist (one transaction) → 8 branch on the key
/// status, or deregister.
public final class RegistrationHandler: ControlMessageHandler {
    public let streamSuffix = "register"
    let check: ProducerRequestCheck
    let limiter: RateLimiter
    let nonces = NonceGuard()
    let responses = ResponseWriter()
    /// Registration nonces are remembered this long (docs/onboarding.md, "Rate limits and anti-replay").
    static let nonceTTLSeconds = 3600

    public init(settings: OnboardingSettings) {
        check = ProducerRequestCheck(settings: settings)
        limiter = RateLimiter(settings: settings)
    }

    /// What the request asked for.
    enum Action: String {
        case register
        case deregister
    }

    /// The request once steps 1–2 passed.
    struct Request {
        var action: Action
        var pubkey: [UInt8]
        var payloadBytes: [UInt8]
        var payload: RegistrationPayload
        var nonce: String
        var signature: String
        var fingerprint: String
    }

    public func handle(_ message: ControlMessage, context: ControlContext) {
        let action: Action = message.string("action") == "deregister" ? .deregister : .register
        // 1. Every field present and non-empty.
        guard let pubkey = message.bytes("pubkey"), !pubkey.isEmpty,
              let payloadBytes = message.bytes("payload"), !payloadBytes.isEmpty,
              let nonce = message.nonEmptyString("nonce"), let signature = message.nonEmptyString("sig") else {
            log(context, .warning, "registration request incomplete", action: action, outcome: "ignored",
                reason: "missing_fields", fingerprint: nil)
            return
        }
        // 2. Fingerprint; payload shape.
        let fingerprint = KeyFingerprint.of(pubkey: pubkey)
        guard let payload = RegistrationPayload.parse(payloadBytes) else {
            log(context, .warning, "registration payload invalid", action: action, outcome: "ignored",
                reason: "invalid_payload", fingerprint: fingerprint)
            return
        }
        let request = Request(action: action, pubkey: pubkey, payloadBytes: payloadBytes, payload: payload, nonce: nonce,
                              signature: signature, fingerprint: fingerprint)
        let responseStream = context.key("register:resp:" + nonce)

        // 3. Rate limit: nothing recorded for a refused request (pinned).
        let identity = payload.requestedProducerID ?? fingerprint
        let decision = limiter.allow(op: "reg", identity: identity, redis: context.redis)
        context.metrics.rateDecision(op: "reg", allowed: decision.isAllowed)
        if case .error(let detail) = decision {
            context.metrics.rateLimitErrors.add(1, ordering: .relaxed)
            log(context, .error, "rate limiter failed; refusing (fail closed)", action: action, outcome: "failure",
                reason: "rate_limit_error", fingerprint: fingerprint, extra: ["details": .string(detail)])
        }
        guard decision.isAllowed else {
            context.metrics.rateLimited.add(1, ordering: .relaxed)
            finish(context, request, status: "rate_limited", reason: "rate_limited", stream: responseStream,
                   fields: [("status", "rate_limited")])
            return
        }

        // 4. Nonce guard (Redis error → allow; the DB's (fingerprint, nonce) key still holds).
        let nonceKey = context.key("reg:nonce:" + fingerprint + ":" + nonce)
        let claim = nonces.claim(key: nonceKey, ttlSeconds: Self.nonceTTLSeconds, onRedisError: .allow, redis: context.redis) { error in
            self.log(context, .error, "nonce guard unavailable; allowing", action: action, outcome: "failure",
                     reason: "nonce_guard_error", fingerprint: fingerprint, extra: ["details": .string(error)])
        }
        // The Redis key lasts an hour (and a Redis error allows): the audit table's (fingerprint,
        // nonce) row is the lasting record, so a signed request captured from the stream cannot be
        // replayed later (e.g. an old deregistration, or a registration that re-enables).
        if claim == .replay || seenBefore(context, fingerprint: fingerprint, nonce: nonce) {
            guard audit(context, request, status: "replay", reason: "duplicate_nonce") else { return }
            finish(context, request, status: "replay", reason: "duplicate_nonce", stream: responseStream,
                   fields: [("status", "replay"), ("reason", "duplicate_nonce")])
            return
        }

        // 5–6. Certificate, then signature.
        let key: CheckedProducerKey
        switch check.check(pubkey: pubkey, payload: payloadBytes, nonce: nonce, signature: signature, now: context.now(),
                           flow: action == .deregister ? .deregistration : .registration) {
        case .invalidCertificate(let error, _):
            guard audit(context, request, status: "invalid_cert", reason: "certificate_verification_failed") else { return }
            finish(context, request, status: "invalid_cert", reason: error.reason.rawValue, keyID: error.keyID,
                   stream: responseStream, fields: [("fingerprint", fingerprint), ("status", "invalid_cert"),
                                                    ("reason", "certificate_verification_failed")],
                   extra: ["details": .string(error.detail)])
            return
        case .invalidSignature:
            context.metrics.canonicalVerifyFailures.add(1, ordering: .relaxed)
            guard audit(context, request, status: "invalid_sig", reason: "signature_verification_failed") else { return }
            finish(context, request, status: "invalid_sig", reason: "signature_verification_failed", stream: responseStream,
                   fields: [("fingerprint", fingerprint), ("status", "invalid_sig"), ("reason", "signature_verification_failed")])
            return
        case .ok(let checked):
            key = checked
        }

        // 7–8. Persist and decide, in one transaction.
        let outcome: Outcome
        do throws(PGError) {
            let pg = try context.postgres()
            let started = ContinuousClock.now
            outcome = try pg.transaction { () throws(PGError) -> Outcome in
                action == .deregister ? try deregister(pg, request) : try register(pg, request)
            }
            context.metrics.persisted(seconds: (ContinuousClock.now - started) / .seconds(1))
        } catch {
            context.discardPostgres(after: error)
            log(context, .error, "registration not persisted", action: action, outcome: "failure", reason: error.reasonCode,
                fingerprint: fingerprint, keyID: key.keyID, extra: ["details": .string(error.message)])
            return
        }
        // Committed: this kernel's ingest refuses (or accepts again) from now on, before the
        // producer hears the answer (docs/onboarding.md, "Deregistration").
        if let change = Self.ingestChange(outcome) { announce(change, context, request) }
        var fields: [(String, String)]? = nil
        switch outcome.response {
        case .none: break
        case .approved(let producer):
            fields = [("fingerprint", fingerprint), ("producer_id", producer), ("status", "approved")]
        case .denied(let producer, let reason):
            fields = [("fingerprint", fingerprint)] + (producer.map { [("producer_id", $0)] } ?? [])
                + [("status", "denied"), ("reason", reason)]
        case .deregistered(let producer):
            fields = [("fingerprint", fingerprint), ("producer_id", producer), ("status", "deregistered")]
        }
        finish(context, request, status: outcome.status, reason: outcome.reason, keyID: key.keyID, producerID: outcome.producerID,
               stream: responseStream, fields: fields)
    }

    // MARK: step 7–8

    /// What step 8 answers.
    enum Response {
        case none
        case approved(producer: String)
        case denied(producer: String?, reason: String)
        case deregistered(producer: String)
    }

    /// The decision: metric/log status and reason, the producer concerned, the response.
    struct Outcome {
        var status: String
        var reason: String?
        var producerID: String?
        var response: Response
    }

    private func register(_ pg: PGConnection, _ request: Request) throws(PGError) -> Outcome {
        let fp = request.fingerprint
        let pubkeyText = String(decoding: request.pubkey, as: UTF8.self)
        guard let existing = try RegistrationStore.key(pg, fingerprint: fp) else {
            let producer: String
            if let requested = request.payload.requestedProducerID {
                // Case 2, rotation: the new key joins the named producer, pending review.
                guard try RegistrationStore.producerExists(pg, requested) else {
                    try auditRow(pg, request, status: "rejected", reason: "unknown_producer")
                    return Outcome(status: "denied", reason: "unknown_producer", producerID: nil,
                                   response: .denied(producer: nil, reason: "unknown_producer"))
                }
                producer = EventUUIDText.normalized(requested)
            } else {
                // Case 1, a new producer.
                let hint = request.payload.producerHint ?? ""
                let name = hint.isEmpty ? "auto_" + String(fp.prefix(12)) : hint
                producer = try RegistrationStore.createProducer(pg, name: name, description: request.payload.description,
                                                                fingerprint: fp)
            }
            guard try RegistrationStore.insertPendingKey(pg, fingerprint: fp, producerID: producer, pubkey: pubkeyText) else {
                // Inserted concurrently by another kernel: roll back and let the next request see it.
                throw PGError(clientReason: "key_inserted_concurrently", kind: .other, message: "key row appeared during registration")
            }
            try auditRow(pg, request, status: "pending", reason: nil)
            return Outcome(status: "pending", reason: request.payload.requestedProducerID == nil ? "new_producer" : "key_rotation",
                           producerID: producer, response: .none)
        }
        try auditRow(pg, request, status: existing.status, reason: nil)
        switch existing.status {
        case "approved":
            // Case 3. A registration of the approved key ends a deregistration.
            if existing.producerDisabled { try RegistrationStore.setDisabled(pg, producerID: existing.producerID, false) }
            return Outcome(status: "approved", reason: existing.producerDisabled ? "reenabled" : nil,
                           producerID: existing.producerID, response: .approved(producer: existing.producerID))
        case "pending":
            // Case 4: the producer waits for the admin's decision (notified on approval).
            return Outcome(status: "pending", reason: "awaiting_review", producerID: existing.producerID, response: .none)
        default:
            // Case 5: revoked or superseded.
            return Outcome(status: "denied", reason: existing.status, producerID: existing.producerID,
                           response: .denied(producer: existing.producerID, reason: existing.status))
        }
    }

    /// docs/onboarding.md, "Deregistration". Only an approved key may deregister its producer: a pending key can be
    /// bound to any producer by id (rotation, case 2), so letting it disable that producer would
    /// hand a denial of service to anyone holding a certificate.
    private func deregister(_ pg: PGConnection, _ request: Request) throws(PGError) -> Outcome {
        guard let existing = try RegistrationStore.key(pg, fingerprint: request.fingerprint) else {
            try auditRow(pg, request, status: "rejected", reason: "unknown_key")
            return Outcome(status: "denied", reason: "unknown_key", producerID: nil,
                           response: .denied(producer: nil, reason: "unknown_key"))
        }
        guard existing.status == "approved" else {
            try auditRow(pg, request, status: existing.status, reason: "deregister_refused")
            return Outcome(status: "denied", reason: existing.status, producerID: existing.producerID,
                           response: .denied(producer: existing.producerID, reason: existing.status))
        }
        try auditRow(pg, request, status: existing.status, reason: "deregistered")
        try RegistrationStore.setDisabled(pg, producerID: existing.producerID, true)
        return Outcome(status: "deregistered", reason: nil, producerID: existing.producerID,
                       response: .deregistered(producer: existing.producerID))
    }

    /// What a committed outcome changes for ingest: a deregistration disables the producer; a
    /// registration of its approved key that ends a deregistration enables it again.
    static func ingestChange(_ outcome: Outcome) -> IngestRevocations.Change? {
        guard let producer = outcome.producerID.flatMap({ EventUUID($0) }) else { return nil }
        if case .deregistered = outcome.response { return .producerDisabled(producer) }
        if case .approved = outcome.response, outcome.reason == "reenabled" { return .producerEnabled(producer) }
        return nil
    }

    /// Applies `change` to this kernel's ingest, then announces it to the other kernels. A failed
    /// PUBLISH is logged and does not hold the answer back: the others still re-read Postgres
    /// every `auth.revocation_check_seconds` (docs/operations.md).
    private func announce(_ change: IngestRevocations.Change, _ context: ControlContext, _ request: Request) {
        guard let revocations = context.settings.revocations else { return }
        revocations.record(change)
        let channel = IngestRevocations.channel(keyPrefix: context.keyPrefix)
        do throws(RedisError) {
            if case .error(let message) = try context.redis.command(["PUBLISH", channel, revocations.message(for: change)]) {
                throw RedisError(kind: .reply, message: message)
            }
        } catch {
            log(context, .warning, "revocation notification not published; other kernels see it at their next refresh",
                action: request.action, outcome: "failure", reason: "redis_unavailable", fingerprint: request.fingerprint,
                extra: ["details": .string(error.message), "channel": .string(channel)])
        }
    }

    private func auditRow(_ pg: PGConnection, _ request: Request, status: String, reason: String?) throws(PGError) {
        try RegistrationStore.audit(pg, fingerprint: request.fingerprint, nonce: request.nonce, payload: request.payloadBytes,
                                    signature: request.signature, status: status, reason: reason)
    }

    /// Steps 4–6: the audit row of a refused request (its own statement, no transaction needed).
    /// False when the database failed: the request is then dropped without a response.
    /// True when an audit row for (fingerprint, nonce) exists already. A database error answers
    /// false: the request then fails at its own persist step, which needs the database anyway.
    private func seenBefore(_ context: ControlContext, fingerprint: String, nonce: String) -> Bool {
        do throws(PGError) {
            let r = try context.postgres().query(
                "SELECT 1 FROM producer_registrations WHERE fingerprint = $1 AND nonce = $2", [fingerprint, nonce])
            return r.count > 0
        } catch {
            context.discardPostgres(after: error)
            return false
        }
    }

    private func audit(_ context: ControlContext, _ request: Request, status: String, reason: String) -> Bool {
        do throws(PGError) {
            try auditRow(try context.postgres(), request, status: status, reason: reason)
            return true
        } catch {
            context.discardPostgres(after: error)
            log(context, .error, "registration audit not persisted", action: request.action, outcome: "failure",
                reason: error.reasonCode, fingerprint: request.fingerprint, extra: ["details": .string(error.message)])
            return false
        }
    }

    // MARK: responses and logs

    /// Responds (when `fields` is given), counts the outcome and logs the decision.
    private func finish(_ context: ControlContext, _ request: Request, status: String, reason: String?, keyID: String? = nil,
                        producerID: String? = nil, stream: String, fields: [(String, String)]?,
                        extra: Logger.Metadata = [:]) {
        context.metrics.outcome(status)
        var metadata = extra
        if let producerID { metadata["producer_id"] = .string(producerID) }
        metadata["responded"] = .string(fields == nil ? "false" : "true")
        if let fields, !responses.respond(stream: stream, fields: fields, ttlSeconds: context.settings.responseTTLSeconds,
                                          redis: context.redis) {
            metadata["response_error"] = "true"
        }
        let success = status == "approved" || status == "pending" || status == "deregistered"
        log(context, success ? .info : .warning, "registration " + status, action: request.action,
            outcome: success ? "success" : "denied", status: status, reason: reason, fingerprint: request.fingerprint,
            keyID: keyID, extra: metadata)
    }

    private func log(_ context: ControlContext, _ level: Logger.Level, _ message: String, action: Action, outcome: String,
                     status: String? = nil, reason: String?, fingerprint: String?, keyID: String? = nil,
                     extra: Logger.Metadata = [:]) {
        var metadata = extra
        metadata["event"] = "registration"
        metadata["component"] = "onboarding"
        metadata["stage"] = "register"
        metadata["action"] = .string(action.rawValue)
        metadata["outcome"] = .string(outcome)
        if let status { metadata["status"] = .string(status) }
        if let reason { metadata["reason_code"] = .string(reason) }
        if let fingerprint { metadata["fingerprint"] = .string(fingerprint) }
        if let keyID { metadata["key_id"] = .string(SafeText.printable(keyID)) }
        context.logger.log(level: level, "\(message)", metadata: metadata)
    }
}
