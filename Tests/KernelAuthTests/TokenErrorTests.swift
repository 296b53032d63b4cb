@testable import KernelAuth
import Testing
import KernelCrypto

/// One crafted token per code of docs/protocol.md, "Tokens", in the order the checks run.
@Suite("Token verification errors")
struct TokenErrorTests {
    typealias T = TestSupport

    var valid: String { T.craft(claims: T.claims()) }

    @Test("a well-formed crafted token passes (the baseline of every case below)")
    func baseline() {
        #expect(T.code(valid) == nil)
    }

    @Test("structure: empty, segment count, size")
    func structure() {
        #expect(T.code("") == "auth_required")
        #expect(T.code("abc") == "bad_token_format")
        #expect(T.code("a.b") == "bad_token_format")
        #expect(T.code(valid + ".AAAA") == "bad_token_format")
        #expect(T.code("...") == "bad_token_format")
        let big = String(repeating: "A", count: 3 * 1024) + "." + String(repeating: "A", count: 3 * 1024) + "."
            + String(repeating: "A", count: 3 * 1024)
        #expect(big.utf8.count > 8 * 1024)
        #expect(T.code(big) == "bad_token_format")
    }

    @Test("segment encoding: padding, standard alphabet, whitespace, bad characters")
    func base64() {
        let parts = valid.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func join(_ a: String, _ b: String, _ c: String) -> String { a + "." + b + "." + c }
        #expect(T.code(join(parts[0] + "=", parts[1], parts[2])) == "bad_header_b64")
        #expect(T.code(join("", parts[1], parts[2])) == "bad_header_b64")
        #expect(T.code(join("+" + parts[0].dropFirst(), parts[1], parts[2])) == "bad_header_b64")
        #expect(T.code(join(parts[0], parts[1] + "==", parts[2])) == "bad_claims_b64")
        #expect(T.code(join(parts[0], "/" + parts[1].dropFirst(), parts[2])) == "bad_claims_b64")
        #expect(T.code(join(parts[0], parts[1] + " ", parts[2])) == "bad_claims_b64")
        #expect(T.code(join(parts[0], parts[1], parts[2] + "==")) == "bad_sig_b64")
        #expect(T.code(join(parts[0], parts[1], "")) == "bad_sig_b64")
        #expect(T.code(join(parts[0], parts[1], String(parts[2].dropLast(4)))) == "bad_sig_b64")
        #expect(T.code(valid + "\n") == "bad_sig_b64")
    }

    @Test("base64url decoding is strict: no standard alphabet, no padding, canonical last character")
    func strictDecoder() {
        #expect(Base64.urlDecode(Array("-_8".utf8)) == [0xFB, 0xFF])
        #expect(Base64.urlDecode(Array("+/8".utf8)) == nil)
        #expect(Base64.urlDecode(Array("-_8=".utf8)) == nil)
        #expect(Base64.urlDecode(Array("-_9".utf8)) == nil) // non-zero trailing bits
        #expect(Base64.urlDecode(Array("A".utf8)) == nil)
        #expect(Base64.standardDecode("+/8=") == [0xFB, 0xFF])
        #expect(Base64.standardDecode("+/8") == [0xFB, 0xFF])
        #expect(Base64.standardDecode("+/8==") == nil)
        #expect(Base64.standardDecode("-_8") == nil)
    }

    @Test("header: JSON, alg, kid")
    func header() {
        let claims = T.claims()
        #expect(T.code(T.craft(header: "not json", claims: claims)) == "bad_header_json")
        #expect(T.code(T.craft(header: "[]", claims: claims)) == "bad_header_json")
        #expect(T.code(T.craft(header: #"{"alg":"EdDSA","alg":"EdDSA","kid":"k1"}"#, claims: claims)) == "bad_header_json")
        #expect(T.code(T.craft(header: #"{"alg":"EdDSA","kid":"k1","crit":["x"]}"#, claims: claims)) == "bad_header_json")
        #expect(T.code(T.craft(header: #"{"alg":"EdDSA","kid":7}"#, claims: claims)) == "bad_header_json")
        #expect(T.code(T.craft(header: #"{"a":[[[[[]]]]]}"#, claims: claims)) == "bad_header_json")
        #expect(T.code(T.craft(header: #"{"alg":"HS256","kid":"k1"}"#, claims: claims)) == "alg_not_supported")
        #expect(T.code(T.craft(header: #"{"alg":"none","kid":"k1"}"#, claims: claims)) == "alg_not_supported")
        #expect(T.code(T.craft(header: #"{"alg":"eddsa","kid":"k1"}"#, claims: claims)) == "alg_not_supported")
        #expect(T.code(T.craft(header: #"{"kid":"k1"}"#, claims: claims)) == "alg_not_supported")
        #expect(T.code(T.craft(header: #"{"alg":"EdDSA","kid":"k2"}"#, claims: claims)) == "unknown_kid")
        #expect(T.code(T.craft(header: #"{"alg":"EdDSA"}"#, claims: claims)) == "unknown_kid")
        // typ is not checked: the legacy "FDC" type verifies too.
        #expect(T.code(T.craft(header: #"{"alg":"EdDSA","kid":"k1","typ":"FDC"}"#, claims: claims)) == nil)
    }

    @Test("signature: tampered claims, tampered signature, another key")
    func signature() {
        let parts = valid.split(separator: ".").map(String.init)
        let otherClaims = T.segment(T.claims(["sub": "\"22222222-2222-4222-8222-222222222222\""]))
        #expect(T.code(parts[0] + "." + otherClaims + "." + parts[2]) == "bad_signature")
        var sig = Base64.urlDecode(Array(parts[2].utf8))!
        sig[10] ^= 0x01
        #expect(T.code(parts[0] + "." + parts[1] + "." + Base64.urlEncode(sig)) == "bad_signature")
        #expect(T.code(T.craft(claims: T.claims(), key: T.key(99))) == "bad_signature")
    }

    @Test("claims: JSON shape and types")
    func claimsJSON() {
        #expect(T.code(T.craft(claims: "nope")) == "bad_claims_json")
        #expect(T.code(T.craft(claims: "[1]")) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["sub": #""producer-1""#]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["sub": nil]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["sub": "42"]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["sid": #""not-a-uuid""#]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["exp": nil]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["exp": "1.8e9"]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["exp": "\"1800003600\""]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["exp": "99999999999999999999"]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["nbf": "true"]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["jti": nil]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["jti": #""""#]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["jti": "\"" + String(repeating: "x", count: 300) + "\""]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["fp": "1"]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["aud": "[1]"]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: T.claims(["x": "[[[[[1]]]]]"]))) == "bad_claims_json")
        #expect(T.code(T.craft(claims: String(T.claims().dropLast()) + #","sub":"\#(T.producer)"}"#)) == "bad_claims_json")
        // A sid that is a UUID scopes the token; an empty sid means none.
        #expect(T.code(T.craft(claims: T.claims(["sid": "\"\(T.subject)\""]))) == nil)
        #expect(T.code(T.craft(claims: T.claims(["sid": #""""#]))) == nil)
    }

    @Test("issuer and audience must match; aud may be an array holding ours")
    func issuerAudience() {
        #expect(T.code(T.craft(claims: T.claims(["iss": #""other""#]))) == "bad_issuer_audience")
        #expect(T.code(T.craft(claims: T.claims(["aud": #""other""#]))) == "bad_issuer_audience")
        #expect(T.code(T.craft(claims: T.claims(["iss": #""ISS-TEST""#]))) == "bad_issuer_audience")
        #expect(T.code(T.craft(claims: T.claims(["aud": #"["x"]"#]))) == "bad_issuer_audience")
        #expect(T.code(T.craft(claims: T.claims(["aud": #"["x","aud-test"]"#]))) == nil)
        #expect(T.code(T.craft(claims: T.claims(["iss": "5"]))) == "bad_claims_json")
    }

    @Test("time window: within the skew passes, beyond it fails")
    func timeWindow() {
        let now = T.now
        #expect(T.code(T.craft(claims: T.claims(["exp": "\(now - 60)"]))) == nil)
        #expect(T.code(T.craft(claims: T.claims(["exp": "\(now - 61)"]))) == "token_expired")
        #expect(T.code(T.craft(claims: T.claims(["nbf": "\(now + 60)"]))) == nil)
        #expect(T.code(T.craft(claims: T.claims(["nbf": "\(now + 61)"]))) == "token_not_yet_valid")
        // Not-yet-valid is checked before expiry.
        #expect(T.code(T.craft(claims: T.claims(["nbf": "\(now + 100)", "exp": "\(now - 100)"]))) == "token_not_yet_valid")
        // nbf and iat are optional; extreme values do not overflow.
        #expect(T.code(T.craft(claims: T.claims(["nbf": nil, "iat": nil]))) == nil)
        #expect(T.code(T.craft(claims: T.claims(["nbf": "-9223372036854775808", "exp": "9223372036854775807"]))) == nil)
        #expect(T.code(T.craft(claims: T.claims(["exp": "-9223372036854775807"]))) == "token_expired")
        // With skew 0 the window is exact.
        let strict = try! TokenVerifier(settings: T.auth(skew: 0))
        #expect(T.code(T.craft(claims: T.claims(["exp": "\(now)"])), verifier: strict) == nil)
        #expect(T.code(T.craft(claims: T.claims(["exp": "\(now - 1)"])), verifier: strict) == "token_expired")
        #expect(T.code(T.craft(claims: T.claims(["nbf": "\(now + 1)"])), verifier: strict) == "token_not_yet_valid")
    }

    @Test("every documented code is produced by at least one case above")
    func allCodes() {
        #expect(Set(TokenError.allCases.map(\.code)) == [
            "auth_required", "bad_token_format", "bad_header_b64", "bad_claims_b64", "bad_sig_b64", "bad_header_json",
            "alg_not_supported", "unknown_kid", "bad_signature", "bad_claims_json", "bad_issuer_audience",
            "token_not_yet_valid", "token_expired",
        ])
    }
}
