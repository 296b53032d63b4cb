import KernelEvents
import KernelJSON
import KernelCrypto

/// Verifies producer tokens (docs/protocol.md, "Tokens"): step 1 (structure, header, signature, claims JSON) and
/// step 2 (issuer, audience, time window with `auth.skew_seconds`). The first failure wins.
/// Step 3 (the `jti` is issued, unrevoked and belongs to `sub`) needs the database: the caller's.
///
/// Strictness: only what the issuer produces is accepted. Segments are unpadded
/// base64url (no `=`, `+`, `/`, whitespace, or non-zero trailing bits: one spelling per token;
/// the legacy standard-alphabet form is refused). Header and claims are flat JSON objects
/// without repeated members, `exp` is required, numeric dates are integers. Work on hostile
/// input is bounded: tokens over `maxTokenBytes` are refused before any decoding, and JSON
/// nesting is limited to `maxJSONDepth`.
public struct TokenVerifier: Sendable {
    /// Tokens longer than this are `bad_token_format` (ours are about 400 bytes).
    public static let maxTokenBytes = 8 * 1024
    /// Containers nesting allowed in header and claims (an `aud` array is depth 2).
    public static let maxJSONDepth = 4
    /// `jti` values longer than this are refused (they become database keys).
    public static let maxJTIBytes = 256

    public let keys: VerificationKeys
    public let issuer: String
    public let audience: String
    public let skewSeconds: Int64
    /// Why the configured issuer key could not be loaded (so its public key is not among `keys`),
    /// for the startup log; nil when it loaded or none is configured. Not fatal: the kernel must
    /// start without an issuer key (docs/protocol.md, "Tokens").
    public let issuerKeyProblem: AuthKeyError?

    /// From the settings. Throws when a configured public key is unusable or a `kid` is ambiguous.
    public init(settings: AuthSettings) throws(AuthKeyError) {
        var issuerKey: Ed25519PrivateKey?
        var problem: AuthKeyError?
        do {
            issuerKey = try Ed25519PrivateKey.issuerKey(settings)
        } catch {
            problem = error
        }
        let keys = try VerificationKeys(auth: settings, issuerKey: issuerKey)
        self.init(keys: keys, issuer: settings.issuer, audience: settings.audience, skewSeconds: Int64(settings.skewSeconds),
                  issuerKeyProblem: problem)
    }

    /// From the settings, never failing: unusable keys are left out and reported in `problems`
    /// (issuer key problem first). For the daemon, which must start and log rather than stop.
    public static func tolerant(settings: AuthSettings) -> (verifier: TokenVerifier, problems: [AuthKeyError]) {
        var issuerKey: Ed25519PrivateKey?
        var problems: [AuthKeyError] = []
        do {
            issuerKey = try Ed25519PrivateKey.issuerKey(settings)
        } catch {
            problems.append(error)
        }
        let (keys, keyProblems) = VerificationKeys.collect(auth: settings, issuerKey: issuerKey)
        let verifier = TokenVerifier(keys: keys, issuer: settings.issuer, audience: settings.audience,
                                     skewSeconds: Int64(settings.skewSeconds), issuerKeyProblem: problems.first)
        return (verifier, problems + keyProblems)
    }

    public init(keys: VerificationKeys, issuer: String, audience: String, skewSeconds: Int64,
                issuerKeyProblem: AuthKeyError? = nil) {
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.skewSeconds = max(0, skewSeconds)
        self.issuerKeyProblem = issuerKeyProblem
    }

    /// Verifies the token text (the stream entry's `token` field bytes) at `nowSeconds`.
    public func verify(_ token: [UInt8], nowSeconds: Int64) -> Result<VerifiedToken, TokenError> {
        guard !token.isEmpty else { return .failure(.authRequired) }
        guard token.count <= Self.maxTokenBytes else { return .failure(.badTokenFormat) }

        // Exactly two dots.
        var dots: [Int] = []
        for (i, byte) in token.enumerated() where byte == UInt8(ascii: ".") {
            dots.append(i)
            if dots.count > 2 { return .failure(.badTokenFormat) }
        }
        guard dots.count == 2 else { return .failure(.badTokenFormat) }
        let headerText = token[..<dots[0]]
        let claimsText = token[(dots[0] + 1)..<dots[1]]
        let signatureText = token[(dots[1] + 1)...]

        guard !headerText.isEmpty, let headerBytes = Base64.urlDecode(headerText) else {
            return .failure(.badHeaderBase64)
        }
        guard !claimsText.isEmpty, let claimsBytes = Base64.urlDecode(claimsText) else {
            return .failure(.badClaimsBase64)
        }
        guard let signature = Base64.urlDecode(signatureText), signature.count == 64 else {
            return .failure(.badSignatureBase64)
        }

        let header: JSONObject
        switch Self.flatObject(headerBytes) {
        case .some(let object): header = object
        case .none: return .failure(.badHeaderJSON)
        }
        if header["crit"] != nil { return .failure(.badHeaderJSON) }
        guard let alg = header["alg"], case .string(let algName) = alg, algName == "EdDSA" else {
            return .failure(.algorithmNotSupported)
        }
        let keyID: String
        switch header["kid"] {
        case .none: return .failure(.unknownKeyID)
        case .some(.string(let kid)): keyID = kid
        case .some: return .failure(.badHeaderJSON)
        }
        guard let key = keys[keyID] else { return .failure(.unknownKeyID) }

        guard key.verify(Array(token[..<dots[1]]), signature: signature) else { return .failure(.badSignature) }

        guard let claimsObject = Self.flatObject(claimsBytes),
              let verified = Self.claims(claimsObject, keyID: keyID)
        else { return .failure(.badClaimsJSON) }

        // Step 2.
        guard case .string(let iss)? = claimsObject["iss"], iss.utf8.elementsEqual(issuer.utf8),
              Self.audienceMatches(claimsObject["aud"], audience)
        else { return .failure(.badIssuerAudience) }
        if let notBefore = verified.notBefore, notBefore > Saturating.add(nowSeconds, skewSeconds) {
            return .failure(.notYetValid)
        }
        if verified.expiresAt < Saturating.subtract(nowSeconds, skewSeconds) { return .failure(.expired) }
        return .success(verified)
    }

    /// `verify` over the UTF-8 of `token`.
    public func verify(_ token: String, nowSeconds: Int64) -> Result<VerifiedToken, TokenError> {
        verify(Array(token.utf8), nowSeconds: nowSeconds)
    }

    /// A JSON object with no repeated member names, or nil.
    private static func flatObject(_ bytes: [UInt8]) -> JSONObject? {
        guard let value = try? JSONParser.parse(bytes, maxDepth: maxJSONDepth), case .object(let object) = value else {
            return nil
        }
        // A repeated member would let two readers see two different tokens in one text.
        var seen = Set<[UInt8]>()
        for member in object.members where !seen.insert(Array(member.key.utf8)).inserted {
            return nil
        }
        return object
    }

    /// The typed claims, or nil when one is missing or has the wrong type. `iss`/`aud` are only
    /// type-checked here; their values are step 2.
    private static func claims(_ object: JSONObject, keyID: String) -> VerifiedToken? {
        guard case .string? = object["iss"] else { return nil }
        switch object["aud"] {
        case .some(.string): break
        case .some(.array(let items)) where items.allSatisfy({ $0.stringValue != nil }): break
        default: return nil
        }
        guard case .string(let sub)? = object["sub"], let producer = EventUUID(sub) else { return nil }
        var subject: EventUUID?
        switch object["sid"] {
        case .none, .some(.null): break
        case .some(.string(let sid)):
            if !sid.isEmpty {
                guard let parsed = EventUUID(sid) else { return nil }
                subject = parsed
            }
        case .some: return nil
        }
        guard case .string(let jti)? = object["jti"], !jti.isEmpty, jti.utf8.count <= maxJTIBytes else { return nil }
        guard let expiresAt = integer(object["exp"]) else { return nil }
        var issuedAt: Int64?
        if let value = object["iat"] {
            guard let parsed = integer(value) else { return nil }
            issuedAt = parsed
        }
        var notBefore: Int64?
        if let value = object["nbf"] {
            guard let parsed = integer(value) else { return nil }
            notBefore = parsed
        }
        var fingerprint: String?
        switch object["fp"] {
        case .none, .some(.null): break
        case .some(.string(let fp)): fingerprint = fp.isEmpty ? nil : fp
        case .some: return nil
        }
        return VerifiedToken(producer: producer, subject: subject, jti: jti, issuedAt: issuedAt, notBefore: notBefore,
                             expiresAt: expiresAt, fingerprint: fingerprint, keyID: keyID)
    }

    /// An integer JSON number that fits Int64 (`-`? digits; no fraction or exponent).
    private static func integer(_ value: JSONValue?) -> Int64? {
        guard case .number(let text)? = value else { return nil }
        var utf8 = text.utf8[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") {
            negative = true
            utf8 = utf8.dropFirst()
        }
        guard !utf8.isEmpty, utf8.count <= 19 else { return nil }
        // Accumulate towards the sign so Int64.min parses too.
        var result: Int64 = 0
        for c in utf8 {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(c - UInt8(ascii: "0"))
            let (m, o1) = result.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            result = a
        }
        return result
    }

    /// `aud` is our audience, or an array containing it (RFC 7519 §4.1.3).
    private static func audienceMatches(_ value: JSONValue?, _ audience: String) -> Bool {
        switch value {
        case .some(.string(let aud)): return aud.utf8.elementsEqual(audience.utf8)
        case .some(.array(let items)):
            return items.contains { $0.stringValue.map { $0.utf8.elementsEqual(audience.utf8) } ?? false }
        default: return false
        }
    }
}
