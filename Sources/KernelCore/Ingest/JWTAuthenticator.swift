import KernelAuth
import KernelConfig

/// The pipeline's `TokenAuthenticator` over KernelAuth's `TokenVerifier` (SPEC §5.5 steps 1–2).
/// The verdict carries the configured skew so cached verdicts re-check the time window alike.
public struct JWTAuthenticator: TokenAuthenticator {
    public let verifier: TokenVerifier

    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    /// From `auth`: throws when a configured verification key is unusable. A missing or broken
    /// issuer key does not throw (see `TokenVerifier.issuerKeyProblem`).
    public init(config: KernelConfig.Auth) throws(AuthKeyError) {
        verifier = try TokenVerifier(config: config)
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
