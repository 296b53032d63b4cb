import KernelAuth
import KernelEvents
import KernelJSON

/// `token`: `TokenVerifier.verify` (JWS compact structure, base64url, header and claims JSON,
/// Ed25519 signature, claim types and the time window).
///
/// Seeds are minted at start-up with fixed test keys from the header × claims templates in the
/// corpus directory; mutations work per segment and re-sign most mutated headers and claims so
/// they get past the signature check into the claim checks.
///
/// Properties: never crashes; an accepted token has exactly three canonical unpadded base64url
/// segments, a signature that verifies under the key its `kid` names, `alg` EdDSA, unique members,
/// and claims that the reference reading agrees with (sub, exp, jti, iss/aud, time window);
/// a refusal for a reason checked after the signature implies the signature was valid.
final class TokenTarget: FuzzTarget {
    let name = "token"
    let seeds: [[UInt8]]
    /// Fixed "now" (2025-11-25T22:47:04Z), so every run and every replay agrees.
    static let now: Int64 = 1_764_110_824
    static let issuer = "https://kernel.fuzz.test"
    static let audience = "kernel"

    private let signers: [String: Ed25519PrivateKey]
    private let outsider: Ed25519PrivateKey
    private let verifier: TokenVerifier
    private let json = JSONMutator(maxLength: 12 * 1024, extraDictionary: tokens([
        "\"alg\"", "\"kid\"", "\"typ\"", "\"crit\"", "\"EdDSA\"", "\"none\"", "\"HS256\"", "\"iss\"", "\"aud\"", "\"sub\"",
        "\"sid\"", "\"exp\"", "\"nbf\"", "\"iat\"", "\"jti\"", "\"fp\"", "\"fuzz-1\"", "\"fuzz-2\"",
    ]))
    static let headerKeys = tokens(["\"alg\"", "\"kid\"", "\"typ\"", "\"crit\"", "\"jku\"", "\"x5u\""])
    static let claimKeys = tokens(["\"iss\"", "\"aud\"", "\"sub\"", "\"sid\"", "\"exp\"", "\"nbf\"", "\"iat\"", "\"jti\"", "\"fp\""])
    static let hostileStrings = tokens([
        "\"EdDSA\"", "\"eddsa\"", "\"EdDSA \"", "\"none\"", "\"HS256\"", "\"ES256\"", "\"RS256\"", "\"fuzz-1\"", "\"fuzz-2\"",
        "\"fuzz-3\"", "\"\"", "\"https://kernel.fuzz.test\"", "\"https://kernel.fuzz.test/\"", "\"kernel\"", "[\"kernel\"]",
        "[\"other\",\"kernel\"]", "[[\"kernel\"]]", "[]", "[1]", "\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"",
        "\"0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B\"", "\"0190a1b2c3d47e5f8a9b0c1d2e3f4a5b\"", "\"01JDXYZ0000000000000000000\"",
        "\"" + String(repeating: "j", count: 256) + "\"", "\"" + String(repeating: "j", count: 257) + "\"",
        "\"kernel\\u0000\"", "\"k\\u0065rnel\"", "{\"kernel\":1}", "null", "true", "4102444800", "1764110824", "1764110884",
        "1764110885", "1764110763", "1764110764", "-1", "0", "1e10", "4102444800.0", "4.1e9", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "99999999999999999999", "\"4102444800\"",
    ])

    init(corpusDir: String) throws(FuzzSetupError) {
        do {
            let one = try Ed25519PrivateKey(seed: (0..<32).map { UInt8($0) &* 7 &+ 1 })
            let two = try Ed25519PrivateKey(seed: (0..<32).map { UInt8($0) &* 13 &+ 5 })
            outsider = try Ed25519PrivateKey(seed: [UInt8](repeating: 0x42, count: 32))
            signers = ["fuzz-1": one, "fuzz-2": two]
            var keys = VerificationKeys()
            try keys.add(one.publicKey, keyID: "fuzz-1")
            try keys.add(two.publicKey, keyID: "fuzz-2")
            verifier = TokenVerifier(keys: keys, issuer: Self.issuer, audience: Self.audience, skewSeconds: 60)
        } catch {
            throw FuzzSetupError("token: cannot make the test keys: \(error)")
        }
        var headers = Files.corpus(corpusDir, suffixes: [".json"]).filter { Self.isHeader($0) }
        var claims = Files.corpus(corpusDir, suffixes: [".json"]).filter { !Self.isHeader($0) }
        if headers.isEmpty { headers = [Array(#"{"alg":"EdDSA","kid":"fuzz-1","typ":"JWT"}"#.utf8)] }
        if claims.isEmpty {
            claims = [Array(#"{"iss":"https://kernel.fuzz.test","aud":"kernel","sub":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","iat":1764110824,"nbf":1764110764,"exp":1764114424,"jti":"01JDXYZ0000000000000000000"}"#.utf8)]
        }
        var minted: [[UInt8]] = []
        for header in headers {
            for claim in claims { minted.append(Self.mint(header: header, claims: claim, signers: signers)) }
        }
        seeds = minted
    }

    static func isHeader(_ json: [UInt8]) -> Bool {
        (try? JSONParser.parse(json, maxDepth: 8))?["alg"] != nil
    }

    /// `b64(header).b64(claims).b64(sig)`, signed by the key the header's `kid` names (fuzz-1 otherwise).
    static func mint(header: [UInt8], claims: [UInt8], signers: [String: Ed25519PrivateKey],
                     signer: Ed25519PrivateKey? = nil) -> [UInt8] {
        let input = Base64Codec.urlEncode(header) + [0x2E] + Base64Codec.urlEncode(claims)
        let kid = (try? JSONParser.parse(header, maxDepth: 8))?["kid"]?.stringValue ?? "fuzz-1"
        let key = signer ?? signers[kid] ?? signers["fuzz-1"]!
        return input + [0x2E] + Base64Codec.urlEncode(key.sign(input))
    }

    func mutate(_ base: [UInt8], other: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        let parts = base.split(separator: 0x2E, omittingEmptySubsequences: false).map(Array.init)
        guard parts.count == 3, var header = Base64Codec.decodeLenient(parts[0]),
              var claims = Base64Codec.decodeLenient(parts[1]) else {
            return json.bytes.mutate(base, other: other, rng: &rng)
        }
        switch rng.below(12) {
        case 0, 1, 2, 3: // claims, usually re-signed
            claims = mutateJSON(claims, other: other, keys: Self.claimKeys, rng: &rng)
            return rng.below(4) != 0 ? Self.mint(header: header, claims: claims, signers: signers)
                : Array(Base64Codec.urlEncode(header) + [0x2E] + Base64Codec.urlEncode(claims) + [0x2E] + parts[2])
        case 4, 5: // header, usually re-signed
            header = mutateJSON(header, other: other, keys: Self.headerKeys, rng: &rng)
            return rng.below(4) != 0 ? Self.mint(header: header, claims: claims, signers: signers)
                : Array(Base64Codec.urlEncode(header) + [0x2E] + Base64Codec.urlEncode(claims) + [0x2E] + parts[2])
        case 6: // a signature by a key nobody configured, or a damaged one
            if rng.oneIn(2) { return Self.mint(header: header, claims: claims, signers: signers, signer: outsider) }
            var sig = Base64Codec.decodeLenient(parts[2]) ?? []
            json.bytes.mutateOnce(&sig, other: [], rng: &rng)
            return parts[0] + [0x2E] + parts[1] + [0x2E] + Base64Codec.urlEncode(sig)
        case 7, 8: // base64url spelling of one segment
            var segments = parts
            let i = rng.below(3)
            segments[i] = Self.respell(segments[i], rng: &rng)
            return segments.joined(separator: [0x2E]).map { $0 }
        case 9: // token-level structure
            var token = base
            switch rng.below(7) {
            case 0: token.insert(0x2E, at: rng.below(token.count + 1))
            case 1: if let dot = token.firstIndex(of: 0x2E) { token.remove(at: dot) }
            case 2: token = Array("Bearer ".utf8) + token
            case 3: token += [UInt8](repeating: 0x41, count: rng.pick([8 * 1024 - base.count, 8 * 1024 - base.count + 1, 70_000]))
            case 4: token.insert(contentsOf: rng.pick(ByteMutator.oddUTF8), at: rng.below(token.count + 1))
            case 5: token = rng.pick([[], [0x2E, 0x2E], [0x2E, 0x2E, 0x2E], Array("a.b.c".utf8), [0x2E] + token])
            default: token += rng.pick([[0x0A], [0x20], [0x0D, 0x0A], [0x00], [0x2E]])
            }
            return token
        default:
            return json.bytes.mutate(base, other: other, rng: &rng)
        }
    }

    private func mutateJSON(_ text: [UInt8], other: [UInt8], keys: [[UInt8]], rng: inout FuzzRandom) -> [UInt8] {
        if rng.oneIn(2), case .object(var members)? = JSONMutator.tree(text) {
            let key = rng.pick(keys)
            let value = JSONMutator.Node.raw(rng.pick(Self.hostileStrings))
            if let i = members.lastIndex(where: { $0.key == key }), rng.below(3) != 0 {
                members[i].value = value
            } else {
                members.insert((key, value), at: rng.below(members.count + 1))
            }
            return JSONMutator.serialize(.object(members))
        }
        return json.mutate(text, other: other, rng: &rng, keys: keys)
    }

    /// Another spelling of a base64url segment: padding, the standard alphabet, whitespace,
    /// non-zero trailing bits, a removed or invalid character.
    static func respell(_ segment: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        var s = segment
        switch rng.below(7) {
        case 0: s += rng.pick([[0x3D], [0x3D, 0x3D], [0x3D, 0x3D, 0x3D]])
        case 1: s = s.map { $0 == 0x2D ? 0x2B : $0 == 0x5F ? 0x2F : $0 }
        case 2: s.insert(rng.pick([0x20, 0x0A, 0x09, 0x0D]), at: rng.below(s.count + 1))
        case 3: // flip a low bit of the last character: same bytes under a lenient decoder
            if let last = s.last, let i = Base64Codec.url.firstIndex(of: last) {
                s[s.count - 1] = Base64Codec.url[(i ^ 1) & 63]
            }
        case 4: if !s.isEmpty { s.remove(at: rng.below(s.count)) }
        case 5: s.insert(rng.pick([0x2B, 0x2F, 0x3D, 0x00, 0x80, 0xFF, 0x25]), at: rng.below(s.count + 1))
        default: s = []
        }
        return s
    }

    func run(_ input: [UInt8]) -> Verdict {
        let result = verifier.verify(input, nowSeconds: Self.now)
        // Reference reading of the parts.
        let parts = input.split(separator: 0x2E, omittingEmptySubsequences: false).map(Array.init)
        let signatureOK: Bool = {
            guard parts.count == 3, let headerBytes = Self.strictURLDecode(parts[0]),
                  let sig = Self.strictURLDecode(parts[2]), sig.count == 64,
                  let kid = (try? JSONParser.parse(headerBytes, maxDepth: 8))?["kid"]?.stringValue,
                  let key = signers[kid] else { return false }
            return key.publicKey.verify(Array(input[..<(parts[0].count + 1 + parts[1].count)]), signature: sig)
        }()
        switch result {
        case .failure(let error):
            let afterSignature: [TokenError] = [.badClaimsJSON, .badIssuerAudience, .notYetValid, .expired]
            if afterSignature.contains(error), !signatureOK {
                return .fail("signature-first: refused as \(error.code), a check after the signature, "
                             + "but the signature does not verify under a configured key")
            }
            return .pass(outcome: error.code)
        case .success(let token):
            if let problem = checkAccepted(token, parts: parts, signatureOK: signatureOK) { return .fail("accepted: \(problem)") }
            return .pass(outcome: "accepted")
        }
    }

    /// Strict unpadded base64url: nil unless re-encoding gives back exactly `text`.
    static func strictURLDecode(_ text: [UInt8]) -> [UInt8]? {
        guard !text.contains(0x3D), let bytes = Base64Codec.decodeLenient(text),
              !text.contains(0x2B), !text.contains(0x2F), Base64Codec.urlEncode(bytes) == text else { return nil }
        return bytes
    }

    private func checkAccepted(_ token: VerifiedToken, parts: [[UInt8]], signatureOK: Bool) -> String? {
        guard parts.count == 3 else { return "\(parts.count) segments" }
        guard let headerBytes = Self.strictURLDecode(parts[0]), let claimsBytes = Self.strictURLDecode(parts[1]),
              Self.strictURLDecode(parts[2]) != nil else { return "a segment is not canonical unpadded base64url" }
        guard signatureOK else { return "the signature does not verify under the key its kid names" }
        guard case .object(let header)? = try? JSONParser.parse(headerBytes, maxDepth: 64),
              case .object(let claims)? = try? JSONParser.parse(claimsBytes, maxDepth: 64) else {
            return "header or claims are not JSON objects"
        }
        for object in [header, claims] where Set(object.members.map { Array($0.key.utf8) }).count != object.members.count {
            return "a repeated member was accepted"
        }
        guard header["alg"]?.stringValue == "EdDSA", header["crit"] == nil else { return "alg is not EdDSA, or crit present" }
        guard header["kid"]?.stringValue == token.keyID else { return "keyID differs from the header's kid" }
        guard case .string(let sub)? = claims["sub"], TextReferences.isUUID(sub), token.producer.description == sub.lowercased() else {
            return "sub \(String(describing: claims["sub"])) read as \(token.producer)"
        }
        guard case .number(let expText)? = claims["exp"], let exp = Int64(expText), exp == token.expiresAt else {
            return "exp \(String(describing: claims["exp"])) read as \(token.expiresAt)"
        }
        guard exp >= Self.now - 60 else { return "expired token accepted (exp \(exp))" }
        if let nbf = claims["nbf"] {
            guard case .number(let text) = nbf, let value = Int64(text), value == token.notBefore else {
                return "nbf \(nbf) read as \(String(describing: token.notBefore))"
            }
            guard value <= Self.now + 60 else { return "not-yet-valid token accepted (nbf \(value))" }
        }
        guard claims["iss"]?.stringValue.map({ Array($0.utf8) == Array(Self.issuer.utf8) }) == true else {
            return "iss \(String(describing: claims["iss"])) accepted"
        }
        let audOK: Bool
        switch claims["aud"] {
        case .string(let aud)?: audOK = Array(aud.utf8) == Array(Self.audience.utf8)
        case .array(let items)?: audOK = items.contains { $0.stringValue.map { Array($0.utf8) == Array(Self.audience.utf8) } ?? false }
        default: audOK = false
        }
        guard audOK else { return "aud \(String(describing: claims["aud"])) accepted" }
        guard case .string(let jti)? = claims["jti"], !jti.isEmpty, jti.utf8.count <= 256, jti == token.jti else {
            return "jti \(String(describing: claims["jti"])) read as \(token.jti)"
        }
        return nil
    }
}
