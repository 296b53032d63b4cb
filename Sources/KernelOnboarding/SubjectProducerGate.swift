import KernelPostgres
import Logging

/// The checks in front of the subject and schema-upgrade streams (docs/onboarding.md, "Subjects"), in the documented order:
/// fields present → certificate and signature → key approved → nonce → rate limit.
///
/// The gate decides; the handler answers. A refusal says whether a response goes out (and on
/// which stream) so the subject stream can answer where the docs say so while the schema-upgrade
/// stream stays silent on every failure.
struct SubjectProducerGate {
    /// Which stream the gate guards; fixes the nonce key family and the rate-limit op.
    enum Flow {
        /// `subject:register`: nonce `nonce:subject:<pid>:<nonce>`, rate-limit op `subject`.
        case subject
        /// `schema:upgrade`: nonce `nonce:schema:<pid>:<nonce>`, rate-limit op `schema`.
        case schemaUpgrade

        var nonceFamily: String { self == .subject ? "subject" : "schema" }
        var rateOp: String { self == .subject ? "subject" : "schema" }
        var checkFlow: ProducerRequestCheck.Flow { self == .subject ? .subject : .schemaUpgrade }
        var stage: String { self == .subject ? "subject" : "schema_upgrade" }
    }

    /// A request that passed every check.
    struct Passed {
        let producerID: String
        let fingerprint: String
        let payload: String
        let nonce: String
    }

    /// Why the gate stopped a request.
    struct Refusal: Error {
        /// Stable reason code for logs (`missing_fields`, `invalid_sig`, `key_not_approved`, …).
        let reason: String
        /// The producer the key is bound to, when known: responses go to its stream.
        let producerID: String?
        /// The response for the subject stream (docs/onboarding.md, "Subjects"), nil when it is silent.
        let response: [(String, String)]?
    }

    /// How long a subject/schema nonce is remembered (docs/onboarding.md, "Rate limits and anti-replay": 10 min).
    static let nonceTTLSeconds = 600

    let flow: Flow
    let check: ProducerRequestCheck

    /// Runs the checks on `message`.
    func admit(_ message: ControlMessage, context: ControlContext) -> Result<Passed, Refusal> {
        guard message.nonEmptyString("pubkey") != nil, let payload = message.nonEmptyString("payload"),
              let nonce = message.nonEmptyString("nonce"), message.nonEmptyString("sig") != nil else {
            return .failure(Refusal(reason: "missing_fields", producerID: nil, response: nil))
        }

        let verdict = check.check(message, now: context.now(), flow: flow.checkFlow)
        let fingerprint: String
        switch verdict {
        case .ok(let key):
            fingerprint = key.fingerprint
        case .invalidCertificate, .invalidSignature:
            if case .invalidSignature = verdict { context.metrics.canonicalVerifyFailures.add(1, ordering: .relaxed) }
            let reason = if case .invalidCertificate(let error, _) = verdict { "invalid_cert:" + error.reason.rawValue } else { "invalid_sig" }
            // Answer only a key we know (its producer's stream exists); anything else is silent.
            var known: KeyLookup = .unknown
            if let fp = verdict.fingerprint {
                do {
                    known = try lookupKey(fp, context: context)
                } catch {
                    context.discardPostgres(after: error)
                }
            }
            guard case .found(let producerID, _) = known else {
                return .failure(Refusal(reason: reason, producerID: nil, response: nil))
            }
            return .failure(Refusal(reason: reason, producerID: producerID, response: [
                ("error", "invalid_sig"), ("reason", "signature_verification_failed"),
            ]))
        }

        let key: KeyLookup
        do {
            key = try lookupKey(fingerprint, context: context)
        } catch {
            context.discardPostgres(after: error)
            return .failure(Refusal(reason: "key_lookup_failed", producerID: nil, response: nil))
        }
        guard case .found(let producerID, let status) = key else {
            return .failure(Refusal(reason: "unknown_key", producerID: nil, response: nil))
        }
        guard status == "approved" else {
            return .failure(Refusal(reason: "key_not_approved", producerID: producerID, response: [
                ("error", "key_not_approved"), ("status", status),
            ]))
        }

        let nonceKey = context.key("nonce:\(flow.nonceFamily):\(producerID):\(nonce)")
        let claim = NonceGuard().claim(key: nonceKey, ttlSeconds: Self.nonceTTLSeconds, onRedisError: .allow,
                                       redis: context.redis) { problem in
            context.logger.warning("nonce guard unavailable; request allowed", metadata: [
                "event": "infra", "component": "onboarding", "stage": .string(flow.stage),
                "outcome": "failure", "reason_code": "redis_error", "details": .string(problem),
            ])
        }
        guard claim == .fresh else {
            return .failure(Refusal(reason: "replay", producerID: producerID, response: [("error", "replay")]))
        }

        let decision = RateLimiter(settings: context.settings).allow(op: flow.rateOp, identity: producerID, redis: context.redis)
        context.metrics.rateDecision(op: flow.rateOp, allowed: decision.isAllowed)
        switch decision {
        case .allowed:
            break
        case .denied:
            context.metrics.rateLimited.add(1, ordering: .relaxed)
            return .failure(Refusal(reason: "rate_limited", producerID: producerID, response: [("error", "rate_limited")]))
        case .error(let problem):
            // Fail closed (docs/onboarding.md, "Rate limits and anti-replay"): the producer sees the same answer as a denial.
            context.metrics.rateLimitErrors.add(1, ordering: .relaxed)
            context.logger.error("rate limiter unavailable; request refused", metadata: [
                "event": "infra", "component": "onboarding", "stage": .string(flow.stage),
                "outcome": "failure", "reason_code": "rate_limit_error", "details": .string(problem),
            ])
            return .failure(Refusal(reason: "rate_limit_error", producerID: producerID, response: [("error", "rate_limited")]))
        }
        return .success(Passed(producerID: producerID, fingerprint: fingerprint, payload: payload, nonce: nonce))
    }

    enum KeyLookup {
        case found(producerID: String, status: String)
        case unknown
    }

    /// The key's producer and status (`producer_keys`).
    private func lookupKey(_ fingerprint: String, context: ControlContext) throws(PGError) -> KeyLookup {
        let r = try context.postgres().query(
            "SELECT producer_id::text, status FROM producer_keys WHERE fingerprint = $1", [fingerprint])
        guard r.count == 1, let producerID = r[0, 0], let status = r[0, 1] else { return .unknown }
        return .found(producerID: producerID, status: status)
    }
}
