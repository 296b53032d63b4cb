import Foundation
import KernelAuth
import KernelEvents
@testable import KernelOnboarding
import Testing

/// Token exchange (by certificate) and renewal (docs/onboarding.md, "Token exchange"), through the handler itself.
@Suite("TokenExchange")
struct TokenExchangeTests {
    /// Runs one exchange request through a fresh handler; returns the responses on
    /// `token:resp:<producer>`.
    static func exchange(_ h: OnboardingHarness, _ fields: [(String, String)], producer: String,
                         settings: OnboardingSettings? = nil) throws -> [[String: String]] {
        let settings = try settings ?? h.settings()
        let context = try h.context(settings: settings)
        TokenExchangeHandler(settings: settings).handle(OnboardingHarness.message(fields), context: context)
        return try h.responses("token:resp:" + producer)
    }

    /// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
    static func isRFC3339Nanos(_ text: String) -> Bool {
        let pattern = Array("dddd-dd-ddTdd:dd:dd.dddddddddZ".utf8)
        let bytes = Array(text.utf8)
        guard bytes.count == pattern.count else { return false }
        return zip(bytes, pattern).allSatisfy { b, p in p == UInt8(ascii: "d") ? (0x30...0x39).contains(b) : b == p }
    }

    @Test func approvedCertificateGetsAVerifiableToken() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let (producer, pid) = try h.approvedProducer()
        let fields = try OnboardingHarness.signedFields(producer, payload: "{}")
        let responses = try Self.exchange(h, fields, producer: pid)
        #expect(responses.count == 1)
        let response = try #require(responses.first)
        #expect(response["fingerprint"] == producer.fingerprint)
        #expect(response["producer_id"] == pid)
        #expect(Set(response.keys) == ["fingerprint", "producer_id", "token", "exp"])
        let verified = try h.verifier().verify(response["token"]!, nowSeconds: Int64(Date().timeIntervalSince1970)).get()
        #expect(verified.producer.description == pid)
        #expect(verified.fingerprint == producer.fingerprint)
        #expect(verified.subject == nil)
        #expect(verified.expiresAt - Int64(Date().timeIntervalSince1970) > 3500)
        #expect(Self.isRFC3339Nanos(response["exp"]!))
        #expect(try h.scalar("SELECT notes || '/' || producer_id::text FROM producer_tokens WHERE jti = $1", [verified.jti]) == "exchange/" + pid)
        #expect(try h.scalar("SELECT extract(epoch FROM expires_at)::bigint::text FROM producer_tokens WHERE jti = $1", [verified.jti])
                == String(verified.expiresAt))
        let ttl = try h.ttl("token:resp:" + pid)
        #expect(ttl > 0 && ttl <= 300)
        #expect(try h.exists("nonce:token:\(pid):\(RegistrationTests.nonce(of: fields))"))
    }

    @Test func tokenTTLComesFromTheConfig() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        h.authYAML = ["token_ttl_seconds: 120"]
        let (producer, pid) = try h.approvedProducer()
        let response = try #require(try Self.exchange(h, try OnboardingHarness.signedFields(producer, payload: "{}"), producer: pid).first)
        let verified = try h.verifier().verify(response["token"]!, nowSeconds: Int64(Date().timeIntervalSince1970)).get()
        #expect(verified.expiresAt - (verified.issuedAt ?? 0) == 120)
    }

    @Test(arguments: ["pending", "revoked", "superseded"])
    func unapprovedKeyGetsNothing(status: String) throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        let pid = try h.insertKey(producer, status: status)
        #expect(try Self.exchange(h, try OnboardingHarness.signedFields(producer, payload: "{}"), producer: pid).isEmpty)
        #expect(try h.count("SELECT count(*) FROM producer_tokens") == 0)
    }

    @Test func disabledProducerGetsNothing() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        let pid = try h.insertKey(producer, status: "approved", producer: try h.insertProducer(disabled: true))
        #expect(try Self.exchange(h, try OnboardingHarness.signedFields(producer, payload: "{}"), producer: pid).isEmpty)
        #expect(try h.count("SELECT count(*) FROM producer_tokens") == 0)
    }

    @Test func badCertificatesAndSignaturesGetNothing() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p")
        let good = ProducerIdentity(keyPath: key, cert: try h.certify(key))
        let pid = try h.insertKey(good, status: "approved")
        let settings = try h.settings()
        // The full certificate checks apply here too: an expired certificate of the approved key fails.
        let expired = ProducerIdentity(keyPath: key, cert: try h.certify(key, validity: "-2d:-1d"))
        #expect(expired.fingerprint == good.fingerprint)
        #expect(try Self.exchange(h, try OnboardingHarness.signedFields(expired, payload: "{}"), producer: pid, settings: settings).isEmpty)
        var tampered = try OnboardingHarness.signedFields(good, payload: "{}")
        tampered[1] = ("payload", #"{"a":"b"}"#)
        #expect(try Self.exchange(h, tampered, producer: pid, settings: settings).isEmpty)
        let plain = ProducerIdentity(keyPath: key, cert: try h.publicLine(key))
        #expect(try Self.exchange(h, try OnboardingHarness.signedFields(plain, payload: "{}"), producer: pid, settings: settings).isEmpty)
        var missing = try OnboardingHarness.signedFields(good, payload: "{}")
        missing.removeLast()
        #expect(try Self.exchange(h, missing, producer: pid, settings: settings).isEmpty)
        #expect(try h.count("SELECT count(*) FROM producer_tokens") == 0)
    }

    @Test func secondImmediateExchangeIsRateLimited() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        h.authYAML = ["registration_rate_limit_rpm: 1", "registration_rate_limit_burst: 1"]
        let settings = try h.settings()
        let (producer, pid) = try h.approvedProducer()
        #expect(try Self.exchange(h, try OnboardingHarness.signedFields(producer, payload: "{}"), producer: pid, settings: settings).count == 1)
        #expect(try Self.exchange(h, try OnboardingHarness.signedFields(producer, payload: "{}"), producer: pid, settings: settings).count == 1)
        #expect(try h.exists("rl:token:" + pid))
    }

    @Test func replayedNonceGetsNothing() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let (producer, pid) = try h.approvedProducer()
        let fields = try OnboardingHarness.signedFields(producer, payload: "{}")
        #expect(try Self.exchange(h, fields, producer: pid, settings: settings).count == 1)
        #expect(try Self.exchange(h, fields, producer: pid, settings: settings).count == 1)
        let ttl = try h.ttl("nonce:token:\(pid):\(RegistrationTests.nonce(of: fields))")
        #expect(ttl > 0 && ttl <= 600)
    }

    @Test func renewalIssuesANewTokenWithoutFingerprint() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let pid = try h.insertProducer()
        let old = try h.mintToken(for: pid)
        let responses = try Self.exchange(h, [("token", old.token)], producer: pid)
        let response = try #require(responses.first)
        #expect(Set(response.keys) == ["producer_id", "token", "exp"])
        #expect(response["producer_id"] == pid)
        #expect(response["token"] != old.token)
        let verified = try h.verifier().verify(response["token"]!, nowSeconds: Int64(Date().timeIntervalSince1970)).get()
        #expect(verified.producer.description == pid)
        #expect(verified.fingerprint == nil)
        #expect(try h.scalar("SELECT notes FROM producer_tokens WHERE jti = $1", [verified.jti]) == "renewal")
        // The old token stays valid.
        #expect(try h.scalar("SELECT revoked_at IS NULL FROM producer_tokens WHERE jti = $1", [old.jti]) == "t")
    }

    @Test func renewalRefusesRevokedUnknownExpiredAndDisabled() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let pid = try h.insertProducer()
        // Revoked through revoked_tokens (the admin path).
        let revoked = try h.mintToken(for: pid)
        _ = try h.pg.query("INSERT INTO revoked_tokens (jti, reason) VALUES ($1, 'test')", [revoked.jti])
        #expect(try Self.exchange(h, [("token", revoked.token)], producer: pid, settings: settings).isEmpty)
        // Revoked through producer_tokens.revoked_at.
        let revoked2 = try h.mintToken(for: pid)
        _ = try h.pg.query("UPDATE producer_tokens SET revoked_at = now() WHERE jti = $1", [revoked2.jti])
        #expect(try Self.exchange(h, [("token", revoked2.token)], producer: pid, settings: settings).isEmpty)
        // Revocation marker cached in Redis.
        let marked = try h.mintToken(for: pid)
        _ = try h.redis.command(["SET", h.prefix + "revoked:jti:" + marked.jti, "1", "EX", "60"])
        #expect(try Self.exchange(h, [("token", marked.token)], producer: pid, settings: settings).isEmpty)
        // Signed by the issuer but never recorded.
        let issuer = try TokenIssuer(settings: try h.config().authSettings)
        let unrecorded = issuer.issue(producer: EventUUID(pid)!, subject: nil, fingerprint: nil, ttlSeconds: 600,
                                      nowSeconds: Int64(Date().timeIntervalSince1970))
        #expect(try Self.exchange(h, [("token", unrecorded.token)], producer: pid, settings: settings).isEmpty)
        // Expired.
        let expired = try h.mintToken(for: pid, ttl: 600, issuedSecondsAgo: 7200)
        #expect(try Self.exchange(h, [("token", expired.token)], producer: pid, settings: settings).isEmpty)
        // Garbage.
        #expect(try Self.exchange(h, [("token", "a.b.c")], producer: pid, settings: settings).isEmpty)
        // Disabled producer.
        let good = try h.mintToken(for: pid)
        _ = try h.pg.query("UPDATE producers SET disabled_at = now() WHERE producer_id = $1::uuid", [pid])
        #expect(try Self.exchange(h, [("token", good.token)], producer: pid, settings: settings).isEmpty)
        #expect(try h.count("SELECT count(*) FROM producer_tokens WHERE notes = 'renewal'") == 0)
    }

    @Test func renewalOfAnotherProducersRowIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let a = try h.insertProducer(), b = try h.insertProducer()
        let token = try h.mintToken(for: a)
        _ = try h.pg.query("UPDATE producer_tokens SET producer_id = $1::uuid WHERE jti = $2", [b, token.jti])
        #expect(try Self.exchange(h, [("token", token.token)], producer: a).isEmpty)
        #expect(try h.responses("token:resp:" + b).isEmpty)
    }

    @Test func renewalIsRateLimited() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        h.authYAML = ["registration_rate_limit_rpm: 1", "registration_rate_limit_burst: 1"]
        let settings = try h.settings()
        let pid = try h.insertProducer()
        let token = try h.mintToken(for: pid)
        #expect(try Self.exchange(h, [("token", token.token)], producer: pid, settings: settings).count == 1)
        #expect(try Self.exchange(h, [("token", token.token)], producer: pid, settings: settings).count == 1)
    }

    @Test func noIssuerKeyMeansNoTokenButNoCrash() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        try FileManager.default.removeItem(atPath: h.issuerPath)
        let settings = try h.settings()
        #expect(settings.issuer == nil)
        #expect(settings.issuerProblem != nil)
        let (producer, pid) = try h.approvedProducer()
        #expect(try Self.exchange(h, try OnboardingHarness.signedFields(producer, payload: "{}"), producer: pid, settings: settings).isEmpty)
    }
}
