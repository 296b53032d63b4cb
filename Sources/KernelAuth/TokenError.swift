/// Why a token was refused (docs/protocol.md, "Tokens", steps 1–2; the first failure wins). The raw value is the
/// code written to logs and DLQ details; the token itself never is.
public enum TokenError: String, Error, Sendable, CaseIterable {
    /// No token at all.
    case authRequired = "auth_required"
    /// Not three dot-separated segments, or longer than `TokenVerifier.maxTokenBytes`.
    case badTokenFormat = "bad_token_format"
    /// A segment is not unpadded base64url (padding, `+`, `/`, whitespace, non-canonical last
    /// character), or the signature is not 64 bytes.
    case badHeaderBase64 = "bad_header_b64"
    case badClaimsBase64 = "bad_claims_b64"
    case badSignatureBase64 = "bad_sig_b64"
    /// The header is not a flat JSON object with string members, or repeats a member, or carries
    /// `crit` (no header extension is understood).
    case badHeaderJSON = "bad_header_json"
    /// `alg` is missing or not `EdDSA`.
    case algorithmNotSupported = "alg_not_supported"
    /// `kid` is missing or names no configured verification key.
    case unknownKeyID = "unknown_kid"
    /// The Ed25519 signature over `header "." claims` does not verify.
    case badSignature = "bad_signature"
    /// The claims are not a JSON object with the required members of the right types (`sub` a
    /// UUID, `sid` a UUID if present, `exp`/`nbf`/`iat` integers, `jti` a non-empty string).
    case badClaimsJSON = "bad_claims_json"
    /// `iss` or `aud` differs from the configuration.
    case badIssuerAudience = "bad_issuer_audience"
    /// `nbf` is later than now + skew.
    case notYetValid = "token_not_yet_valid"
    /// `exp` is earlier than now − skew.
    case expired = "token_expired"

    /// The reason code (docs/protocol.md, "Tokens").
    public var code: String { rawValue }
}
