import KernelAuth
import KernelConfig
import Logging

/// The pipeline's `TokenAuthenticator` over KernelAuth's `TokenVerifier` (docs/protocol.md, "Tokens", steps 1–2).
/// The verdict carries the configured skew so cached verdicts re-check the time window alike.
public struct JWTAuthenticator: TokenAuthenticator {
    public let verifier: TokenVerifier

    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    /// From `auth`, strictly: throws when a configured verification key is unusable. A missing or
    /// broken issuer key does not throw (see `TokenVerifier.issuerKeyProblem`).
    public init(settings: AuthSettings) throws(AuthKeyError) {
        verifier = try TokenVerifier(settings: settings)
    }

    /// The daemon's authenticator: never fails. Unusable keys are left out and logged at error
    /// level (their tokens then fail `unknown_kid`); a missing issuer key is logged as a warning,
    /// since the kernel must start without one (docs/protocol.md, "Tokens").
    public static func make(_ config: KernelConfig, _ logger: Logger) -> any TokenAuthenticator {
        let (verifier, problems) = TokenVerifier.tolerant(settings: config.authSettings)
        for problem in problems {
            logger.error("token verification key unusable", metadata: [
                "event": "auth", "component": "token", "stage": "startup", "outcome": "failure",
                "reason_code": .string(problem.reason.rawValue), "details": .string(problem.message),
            ])
        }
        if config.auth.privateKey == nil, config.auth.privateKeyFile == nil {
            logger.warning("no issuer key configured: tokens cannot be issued", metadata: [
                "event": "auth", "component": "token", "stage": "startup", "reason_code": "no_issuer_key",
            ])
        }
        if verifier.keys.byKeyID.isEmpty {
            logger.warning("no token verification keys: every token is refused", metadata: [
                "event": "auth", "component": "token", "stage": "startup", "reason_code": "no_verification_keys",
            ])
        }
        return JWTAuthenticator(verifier: verifier)
    }

    public func authenticate(_ token: [UInt8], nowSeconds: Int64) -> TokenVerdict {
        switch verifier.verify(token, nowSeconds: nowSeconds) {
        case .success(let verified):
            return .valid(TokenIdentity(
                producer: verified.producer, subject: verified.subject, jti: verified.jti,
                notBefore: verified.notBefore ?? .min, expiresAt: verified.expiresAt,
                skewSeconds: verifier.skewSeconds))
        case .failure(let error):
            return .invalid(reason: error.code)
        }
    }
}
