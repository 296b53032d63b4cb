import KernelEvents

/// What a token that passed steps 1–2 of docs/protocol.md, "Tokens" says. Step 3 (is the `jti` issued and not
/// revoked) is the caller's.
public struct VerifiedToken: Sendable, Equatable {
    /// `sub`: the producer the token speaks for.
    public var producer: EventUUID
    /// `sid`: the subject the token is scoped to, when present.
    public var subject: EventUUID?
    /// `jti`: the token's id.
    public var jti: String
    /// `iat`, Unix seconds, when present.
    public var issuedAt: Int64?
    /// `nbf`, Unix seconds, when present.
    public var notBefore: Int64?
    /// `exp`, Unix seconds (required).
    public var expiresAt: Int64
    /// `fp`: fingerprint of the producer key the token was exchanged for, when present.
    public var fingerprint: String?
    /// The header's `kid`.
    public var keyID: String
}
