import KernelEvents

/// Verifies a token's structure, signature and claims (docs/protocol.md, "Tokens", steps 1–2). Its state (issued,
/// revoked: step 3) is checked against the `IngestDirectory`. Implementations are pure and
/// thread-safe; the processor caches their verdicts per token so a signature is verified once.
public protocol TokenAuthenticator: Sendable {
    func authenticate(_ token: [UInt8], nowSeconds: Int64) -> TokenVerdict
}

public enum TokenVerdict: Sendable {
    case valid(TokenIdentity)
    /// `reason` is the code of docs/protocol.md, "Tokens" (`bad_signature`, `token_expired`, …): logged and put in the
    /// DLQ detail, never the token itself.
    case invalid(reason: String)
}

/// Who a valid token speaks for.
public struct TokenIdentity: Sendable, Equatable {
    public var producer: EventUUID
    /// The `sid` claim: the token is scoped to this subject.
    public var subject: EventUUID?
    public var jti: String
    public var notBefore: Int64
    public var expiresAt: Int64
    public var skewSeconds: Int64

    public init(producer: EventUUID, subject: EventUUID?, jti: String, notBefore: Int64, expiresAt: Int64, skewSeconds: Int64) {
        self.producer = producer
        self.subject = subject
        self.jti = jti
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.skewSeconds = skewSeconds
    }

    /// Time claims, re-checked on every use of a cached verdict.
    public func timeProblem(nowSeconds: Int64) -> String? {
        if notBefore > nowSeconds + skewSeconds { return "token_not_yet_valid" }
        if expiresAt < nowSeconds - skewSeconds { return "token_expired" }
        return nil
    }
}
