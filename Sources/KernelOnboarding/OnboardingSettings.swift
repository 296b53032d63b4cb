import KernelAuth
import KernelRedis
import KernelSSH
import Logging

/// Everything the onboarding flows take from the configuration, resolved once at start-up.
///
/// Building settings never fails (docs/operations.md, "Start-up"): an unparseable producer CA leaves
/// `certificatePolicy.caKey` nil, so every certificate is refused with `wrong_ca`; a missing or
/// broken issuer key leaves `issuer` nil, so token issuance fails (no response) while the kernel
/// runs. `logProblems` reports both once.
public struct OnboardingSettings: Sendable {
    /// `redis.key_prefix` (`P`).
    public var keyPrefix: String
    /// `redis.consumer_group`, created on every control stream.
    public var consumerGroup: String
    /// `redis.consumer_name`; each control stream's consumer appends `-<suffix>`.
    public var consumerName: String
    /// What producer certificates must satisfy (docs/protocol.md, "OpenSSH certificates").
    public var certificatePolicy: CertificatePolicy
    /// Why `auth.producer_ssh_ca` could not be used; nil when it loaded.
    public var caProblem: SSHKeyError?
    /// `auth.producer_principals` (empty = not checked).
    public var principals: [String]
    /// `auth.skew_seconds`: tolerance on certificate validity and token times.
    public var skewSeconds: Int
    /// EXPIRE on response streams (`auth.registration_response_ttl_seconds`; ≤ 0 → 300).
    public var responseTTLSeconds: Int
    /// Token-bucket refill per minute (`auth.registration_rate_limit_rpm`).
    public var rateLimitRPM: Int
    /// Token-bucket capacity (`auth.registration_rate_limit_burst`).
    public var rateLimitBurst: Int
    /// Lifetime of issued tokens (`auth.token_ttl_seconds`).
    public var tokenTTLSeconds: Int
    /// The token issuer; nil when no usable issuer key is configured.
    public var issuer: TokenIssuer?
    /// Why the issuer key could not be loaded (nil when it loaded).
    public var issuerProblem: AuthKeyError?
    /// Verifies tokens presented for renewal (docs/protocol.md, "Tokens", steps 1–2).
    public var verifier: TokenVerifier
    /// Unusable verification keys (left out of `verifier`).
    public var verifierProblems: [AuthKeyError]
    /// `postgres.dsn`.
    public var postgresDSN: String
    /// `redis.max_deliveries`: a control message re-read more often than this (its handling
    /// crashed the kernel every time) is acknowledged without being handled again.
    public var maxDeliveries: Int
    /// How control-stream consumers connect to Redis.
    public var redis: RedisSettings
    /// Where a deregistration (or a re-enabling registration) is recorded, once committed and
    /// before the answer, so this kernel's ingest applies it to every entry read after the answer;
    /// set by the daemon, nil when onboarding runs without an ingest pipeline.
    public var revocations: IngestRevocations?

    /// Resolves the settings from plain values (the kernel fills them from `redis.*`, `auth.*`
    /// and `postgres.*`: `KernelConfig.onboardingSettings` in KernelCore); the defaults are the
    /// configuration's. Never fails: see the type's comment.
    /// - Parameters:
    ///   - producerSSHCA: `auth.producer_ssh_ca`, the CA's public key text or a path to it.
    ///   - responseTTLSeconds: `auth.registration_response_ttl_seconds` (≤ 0 → 300).
    ///   - auth: the token keys, `auth.skew_seconds` and `auth.token_ttl_seconds`.
    public init(keyPrefix: String, consumerGroup: String = "kernel", consumerName: String, maxDeliveries: Int = 5,
                producerSSHCA: String, principals: [String] = [], responseTTLSeconds: Int = 300,
                rateLimitRPM: Int = 10, rateLimitBurst: Int = 3, auth: AuthSettings,
                postgresDSN: String, redis: RedisSettings) {
        self.keyPrefix = keyPrefix
        self.consumerGroup = consumerGroup
        self.consumerName = consumerName
        self.principals = principals
        skewSeconds = auth.skewSeconds
        let caKey: SSHPublicKey?
        switch SSHPublicKey.load(configValue: producerSSHCA) {
        case .success(let key):
            caKey = key
            caProblem = nil
        case .failure(let error):
            caKey = nil
            caProblem = error
        }
        certificatePolicy = .producer(caKey: caKey, principals: principals,
                                      skewSeconds: UInt64(max(0, auth.skewSeconds)))
        self.responseTTLSeconds = responseTTLSeconds <= 0 ? 300 : responseTTLSeconds
        self.rateLimitRPM = rateLimitRPM
        self.rateLimitBurst = rateLimitBurst
        tokenTTLSeconds = auth.tokenTTLSeconds
        do {
            issuer = try TokenIssuer(settings: auth)
            issuerProblem = nil
        } catch {
            issuer = nil
            issuerProblem = error
        }
        let (verifier, problems) = TokenVerifier.tolerant(settings: auth)
        self.verifier = verifier
        // The issuer key's problem is already `issuerProblem`.
        let known = issuerProblem
        verifierProblems = problems.filter { $0 != known }
        self.postgresDSN = postgresDSN
        self.maxDeliveries = maxDeliveries
        self.redis = redis
    }

    /// The full Redis key for `suffix`: `P + suffix`.
    public func key(_ suffix: String) -> String { keyPrefix + suffix }

    /// Logs, once at start-up, what makes part of onboarding refuse everything.
    public func logProblems(_ logger: Logger) {
        if let caProblem {
            logger.error("producer CA unusable: every producer certificate will be refused", metadata: [
                "event": "registration", "component": "onboarding", "stage": "startup", "outcome": "failure",
                "reason_code": .string(caProblem.reason.rawValue), "details": .string(caProblem.detail),
            ])
        }
        if let issuerProblem {
            logger.warning("no usable issuer key: token exchange cannot issue tokens", metadata: [
                "event": "token", "component": "onboarding", "stage": "startup", "outcome": "failure",
                "reason_code": .string(issuerProblem.reason.rawValue), "details": .string(issuerProblem.message),
            ])
        }
        for problem in verifierProblems {
            logger.error("token verification key unusable", metadata: [
                "event": "token", "component": "onboarding", "stage": "startup", "outcome": "failure",
                "reason_code": .string(problem.reason.rawValue), "details": .string(problem.message),
            ])
        }
    }
}
