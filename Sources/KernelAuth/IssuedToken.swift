/// A freshly minted token and the facts the caller stores or sends with it.
public struct IssuedToken: Sendable, Equatable {
    /// The JWS compact text `header.claims.signature`.
    public var token: String
    /// The `jti` claim (a ULID): the key of the `producer_tokens` row.
    public var jti: String
    /// `iat`, Unix seconds.
    public var issuedAt: Int64
    /// `exp`, Unix seconds.
    public var expiresAt: Int64
    /// `exp` as RFC 3339 UTC with nanoseconds (`2026-11-25T15:30:00.000000000Z`), the token
    /// exchange response's `exp` field (docs/onboarding.md, "Token exchange").
    public var expRFC3339: String
}
