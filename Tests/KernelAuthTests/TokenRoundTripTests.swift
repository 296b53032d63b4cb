@testable import KernelAuth
import KernelEvents
import KernelJSON
import Testing
import KernelCrypto

@Suite("Issuing and verifying tokens")
struct TokenRoundTripTests {
    @Test("an issued token verifies and carries every claim")
    func roundTrip() throws {
        let issued = TestSupport.issuer().issue(producer: TestSupport.producer, subject: TestSupport.subject,
                                                fingerprint: "fp+/==", ttlSeconds: 600, nowSeconds: TestSupport.now)
        #expect(issued.issuedAt == TestSupport.now)
        #expect(issued.expiresAt == TestSupport.now + 600)
        #expect(ULID.isValid(issued.jti))
        let verified = try TestSupport.verifier().verify(issued.token, nowSeconds: TestSupport.now).get()
        #expect(verified.producer == TestSupport.producer)
        #expect(verified.subject == TestSupport.subject)
        #expect(verified.jti == issued.jti)
        #expect(verified.issuedAt == TestSupport.now)
        #expect(verified.notBefore == TestSupport.now - 60)
        #expect(verified.expiresAt == TestSupport.now + 600)
        #expect(verified.fingerprint == "fp+/==")
        #expect(verified.keyID == "k1")
    }

    @Test("the token is a standard JWT: base64url segments, EdDSA header, claims in the documented order")
    func format() throws {
        let issued = TestSupport.issuer().issue(producer: TestSupport.producer, subject: nil, fingerprint: nil,
                                                ttlSeconds: nil, nowSeconds: TestSupport.now)
        let parts = issued.token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        for part in parts {
            #expect(!part.contains("=") && !part.contains("+") && !part.contains("/"))
        }
        let header = String(decoding: try #require(Base64.urlDecode(Array(parts[0].utf8))), as: UTF8.self)
        #expect(header == #"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#)
        let claims = try JSONParser.parse(try #require(Base64.urlDecode(Array(parts[1].utf8))))
        // sid and fp are omitted when absent; the default ttl is auth.token_ttl_seconds.
        #expect(claims.objectValue?.keys == ["iss", "aud", "sub", "iat", "nbf", "exp", "jti"])
        #expect(claims["sub"]?.stringValue == TestSupport.producer.description)
        #expect(claims["exp"]?.numberText == "\(TestSupport.now + 3600)")
        #expect(try #require(Base64.urlDecode(Array(parts[2].utf8))).count == 64)
    }

    @Test("an empty fingerprint is omitted; sid and fp come in order when present")
    func optionalClaims() throws {
        let issuer = TestSupport.issuer()
        let a = issuer.issue(producer: TestSupport.producer, subject: TestSupport.subject, fingerprint: "",
                             ttlSeconds: 5, nowSeconds: TestSupport.now)
        let b = issuer.issue(producer: TestSupport.producer, subject: TestSupport.subject, fingerprint: "abc",
                             ttlSeconds: 5, nowSeconds: TestSupport.now)
        func keys(_ token: String) throws -> [String] {
            let part = token.split(separator: ".")[1]
            return try JSONParser.parse(try #require(Base64.urlDecode(Array(part.utf8)))).objectValue?.keys ?? []
        }
        #expect(try keys(a.token) == ["iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti"])
        #expect(try keys(b.token) == ["iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti", "fp"])
        #expect(try TestSupport.verifier().verify(a.token, nowSeconds: TestSupport.now).get().fingerprint == nil)
    }

    @Test("exp is also given as RFC 3339 UTC with nanoseconds")
    func expText() {
        let issued = TestSupport.issuer().issue(producer: TestSupport.producer, subject: nil, fingerprint: nil,
                                                ttlSeconds: 3600, nowSeconds: 1_795_617_000)
        #expect(issued.expRFC3339 == "2026-11-25T15:30:00.000000000Z")
    }

    @Test("the issuer's JSON escaping holds for hostile iss/aud/kid values")
    func escaping() throws {
        var auth = TestSupport.auth(keyID: "k\"1\\\n")
        auth.issuer = "i\"s</script>"
        auth.audience = "a\u{1}ü"
        let issued = try TokenIssuer(settings: auth).issue(producer: TestSupport.producer, subject: nil, fingerprint: "f\"",
                                                           ttlSeconds: nil, nowSeconds: TestSupport.now)
        let verified = try TokenVerifier(settings: auth).verify(issued.token, nowSeconds: TestSupport.now).get()
        #expect(verified.keyID == "k\"1\\\n")
        #expect(verified.fingerprint == "f\"")
    }

    @Test("a token issued by one key is refused by a verifier that only knows another key under that kid")
    func otherKey() {
        let issued = TestSupport.issuer().issue(producer: TestSupport.producer, subject: nil, fingerprint: nil,
                                                ttlSeconds: nil, nowSeconds: TestSupport.now)
        let other = try! TokenVerifier(settings: TestSupport.auth(privateKey: TestSupport.privateKeyBase64(77)))
        #expect(TestSupport.code(issued.token, verifier: other) == "bad_signature")
    }

    @Test("ttl is at least one second")
    func minimumTTL() {
        let issued = TestSupport.issuer().issue(producer: TestSupport.producer, subject: nil, fingerprint: nil,
                                                ttlSeconds: -5, nowSeconds: TestSupport.now)
        #expect(issued.expiresAt == TestSupport.now + 1)
    }

    @Test("the issuer needs a key")
    func noIssuerKey() {
        #expect(throws: AuthKeyError.self) { try TokenIssuer(settings: TestSupport.auth(privateKey: nil)) }
        do {
            _ = try TokenIssuer(settings: TestSupport.auth(privateKey: nil))
        } catch {
            #expect(error.reason == .noIssuerKey)
        }
    }
}
