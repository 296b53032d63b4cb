#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KernelEvents
import KernelJSON
import KernelCrypto

/// Mints producer tokens (docs/protocol.md, "Tokens"): standard JWTs in JWS compact form, base64url
/// without padding, signed with the issuer's Ed25519 key.
///
/// Header `{"alg":"EdDSA","kid":<auth.key_id>,"typ":"JWT"}`; claims in this order: `iss`, `aud`,
/// `sub` (producer id), `sid` (omitted when nil), `iat`, `nbf` (= iat − skew), `exp`
/// (= iat + ttl), `jti` (a ULID), `fp` (omitted when nil or empty).
public struct TokenIssuer: Sendable {
    public let key: Ed25519PrivateKey
    public let keyID: String
    public let issuer: String
    public let audience: String
    public let skewSeconds: Int64
    public let defaultTTLSeconds: Int64

    /// From the settings. Throws `.noIssuerKey` when no issuer key is configured, or the key's
    /// problem when it cannot be loaded.
    public init(settings: AuthSettings) throws(AuthKeyError) {
        guard let key = try Ed25519PrivateKey.issuerKey(settings) else {
            throw AuthKeyError(.noIssuerKey, "no issuer key: set auth.private_key (or KERNEL_AUTH_PRIVATE_KEY) "
                               + "or auth.private_key_file")
        }
        self.init(key: key, keyID: settings.keyID, issuer: settings.issuer, audience: settings.audience,
                  skewSeconds: Int64(settings.skewSeconds), defaultTTLSeconds: Int64(settings.tokenTTLSeconds))
    }

    public init(key: Ed25519PrivateKey, keyID: String, issuer: String, audience: String,
                skewSeconds: Int64, defaultTTLSeconds: Int64) {
        self.key = key
        self.keyID = keyID
        self.issuer = issuer
        self.audience = audience
        self.skewSeconds = skewSeconds
        self.defaultTTLSeconds = defaultTTLSeconds
    }

    /// A signed token for `producer`, valid from `nowSeconds − skew` to `nowSeconds + ttl`
    /// (`ttlSeconds` or the configured `auth.token_ttl_seconds`; at least 1 s).
    public func issue(producer: EventUUID, subject: EventUUID?, fingerprint: String?, ttlSeconds: Int?,
                      nowSeconds: Int64) -> IssuedToken {
        let ttl = max(1, ttlSeconds.map(Int64.init) ?? defaultTTLSeconds)
        let issuedAt = nowSeconds
        let notBefore = Saturating.subtract(nowSeconds, skewSeconds)
        let expiresAt = Saturating.add(nowSeconds, ttl)
        let jti = ULID.make(milliseconds: Self.jtiMilliseconds(nowSeconds: nowSeconds))

        var header: [UInt8] = []
        append(&header, "{\"alg\":\"EdDSA\",\"kid\":")
        JSONWriter.appendString(keyID, to: &header)
        append(&header, ",\"typ\":\"JWT\"}")

        var claims: [UInt8] = []
        append(&claims, "{\"iss\":")
        JSONWriter.appendString(issuer, to: &claims)
        append(&claims, ",\"aud\":")
        JSONWriter.appendString(audience, to: &claims)
        append(&claims, ",\"sub\":\"\(producer)\"")
        if let subject { append(&claims, ",\"sid\":\"\(subject)\"") }
        append(&claims, ",\"iat\":\(issuedAt),\"nbf\":\(notBefore),\"exp\":\(expiresAt),\"jti\":\"\(jti)\"")
        if let fingerprint, !fingerprint.isEmpty {
            append(&claims, ",\"fp\":")
            JSONWriter.appendString(fingerprint, to: &claims)
        }
        append(&claims, "}")

        let signingInput = Base64.urlEncode(header) + "." + Base64.urlEncode(claims)
        let signature = key.sign(Array(signingInput.utf8))
        let token = signingInput + "." + Base64.urlEncode(signature)

        let (nanos, overflow) = expiresAt.multipliedReportingOverflow(by: 1_000_000_000)
        return IssuedToken(token: token, jti: jti, issuedAt: issuedAt, expiresAt: expiresAt,
                           expRFC3339: RFC3339.format(nanos: overflow ? (expiresAt < 0 ? .min : .max) : nanos))
    }

    private func append(_ out: inout [UInt8], _ text: String) {
        out.append(contentsOf: text.utf8)
    }

    /// The jti's time: `nowSeconds` plus the wall clock's milliseconds when the wall clock is in
    /// that same second (so ids minted within one second still sort by time); otherwise (a test
    /// clock) the start of `nowSeconds`.
    static func jtiMilliseconds(nowSeconds: Int64) -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let base = Saturating.multiply(nowSeconds, 1000)
        guard Int64(spec.tv_sec) == nowSeconds else { return base }
        return base + Int64(spec.tv_nsec / 1_000_000)
    }
}

/// Int64 arithmetic that clamps instead of trapping: claim values come from untrusted tokens and
/// from configuration, and a trap would take the whole kernel down.
enum Saturating {
    static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? (b > 0 ? .max : .min) : r
    }

    static func subtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.subtractingReportingOverflow(b)
        return o ? (b > 0 ? .min : .max) : r
    }

    static func multiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? ((a < 0) != (b < 0) ? .min : .max) : r
    }
}
