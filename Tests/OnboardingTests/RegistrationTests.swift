import Foundation
import KernelJSON
@testable import KernelOnboarding
import KernelSSH
import Testing

/// The registration cases of docs/onboarding.md, "Registration", each refusal and the audit trail, through the handler itself
/// (real Redis and Postgres; certificates made by ssh-keygen during the run).
@Suite("Registration")
struct RegistrationTests {
    /// Runs one registration request through a fresh handler; returns the responses on
    /// `register:resp:<nonce>`.
    static func register(_ h: OnboardingHarness, _ fields: [(String, String)], settings: OnboardingSettings? = nil,
                         now: (() -> Int64)? = nil) throws -> [[String: String]] {
        let settings = try settings ?? h.settings()
        let context = try h.context(settings: settings, now: now)
        RegistrationHandler(settings: settings).handle(OnboardingHarness.message(fields), context: context)
        let nonce = fields.first { $0.0 == "nonce" }?.1 ?? ""
        return try h.responses("register:resp:" + nonce)
    }

    static func nonce(of fields: [(String, String)]) -> String { fields.first { $0.0 == "nonce" }!.1 }

    /// `expression` over the producer (`p`) the key `fingerprint` (`k`) belongs to.
    static func producer(_ h: OnboardingHarness, _ expression: String, ofKey fingerprint: String) throws -> String? {
        try h.scalar("SELECT \(expression) FROM producers p JOIN producer_keys k USING (producer_id) WHERE k.fingerprint = $1",
                     [fingerprint])
    }

    @Test func newProducerIsPendingWithoutResponse() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        let fields = try OnboardingHarness.signedFields(producer, payload: #"{"producer_hint":"acme-feed","contact":"ops@acme.test","meta":{"region":"eu","b":"x"}}"#)
        let responses = try Self.register(h, fields)
        #expect(responses.isEmpty)
        let nonce = Self.nonce(of: fields)
        #expect(try h.auditStatus(producer.fingerprint, nonce) == "pending")
        #expect(try h.scalar("SELECT status FROM producer_keys WHERE fingerprint = $1", [producer.fingerprint]) == "pending")
        #expect(try Self.producer(h, "p.name", ofKey: producer.fingerprint) == "acme-feed")
        #expect(try Self.producer(h, "p.description", ofKey: producer.fingerprint)
                == #"Contact: ops@acme.test | Meta: {"b":"x","region":"eu"}"#)
        #expect(try h.scalar("SELECT key_fingerprint FROM producer_registrations WHERE nonce = $1", [nonce]) == producer.fingerprint)
        let ttl = try h.ttl("reg:nonce:\(producer.fingerprint):\(nonce)")
        #expect(ttl > 3500 && ttl <= 3600)
    }

    @Test func newProducerWithoutHintIsNamedAfterFingerprint() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        _ = try Self.register(h, try OnboardingHarness.signedFields(producer, payload: "{}"))
        #expect(try Self.producer(h, "p.name", ofKey: producer.fingerprint) == "auto_" + String(producer.fingerprint.prefix(12)))
        #expect(try Self.producer(h, "p.description IS NULL", ofKey: producer.fingerprint) == "t")
    }

    @Test func takenHintCreatesAnotherProducer() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let existing = try h.insertProducer("shared-name")
        let producer = try h.producerIdentity()
        _ = try Self.register(h, try OnboardingHarness.signedFields(producer, payload: #"{"producer_hint":"shared-name"}"#))
        let bound = try h.scalar("SELECT producer_id::text FROM producer_keys WHERE fingerprint = $1", [producer.fingerprint])
        #expect(bound != nil && bound != existing)
        #expect(try h.count("SELECT count(*) FROM producers WHERE name LIKE 'shared-name%'") == 2)
    }

    @Test func pendingKeyGetsNoResponseAndAPendingAuditRow() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        try h.insertKey(producer, status: "pending")
        let fields = try OnboardingHarness.signedFields(producer, payload: "{}")
        #expect(try Self.register(h, fields).isEmpty)
        #expect(try h.auditStatus(producer.fingerprint, Self.nonce(of: fields)) == "pending")
    }

    @Test func approvedKeyIsAnsweredApproved() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let (producer, pid) = try h.approvedProducer()
        let fields = try OnboardingHarness.signedFields(producer, payload: #"{"producer_hint":"ignored"}"#)
        let responses = try Self.register(h, fields)
        #expect(responses == [["fingerprint": producer.fingerprint, "producer_id": pid, "status": "approved"]])
        #expect(try h.auditStatus(producer.fingerprint, Self.nonce(of: fields)) == "approved")
        let ttl = try h.ttl("register:resp:" + Self.nonce(of: fields))
        #expect(ttl > 0 && ttl <= 300)
    }

    @Test(arguments: ["revoked", "superseded"])
    func revokedOrSupersededKeyIsDenied(status: String) throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        let pid = try h.insertKey(producer, status: status)
        let fields = try OnboardingHarness.signedFields(producer, payload: "{}")
        #expect(try Self.register(h, fields) == [["fingerprint": producer.fingerprint, "producer_id": pid, "status": "denied", "reason": status]])
        #expect(try h.auditStatus(producer.fingerprint, Self.nonce(of: fields)) == status)
    }

    @Test func rotationBindsThePendingKeyToTheNamedProducer() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let old = try h.producerIdentity()
        let pid = try h.insertKey(old, status: "approved")
        let new = try h.producerIdentity()
        let fields = try OnboardingHarness.signedFields(new, payload: #"{"producer_id":"\#(pid.uppercased())","producer_hint":"other"}"#)
        #expect(try Self.register(h, fields).isEmpty)
        #expect(try h.scalar("SELECT producer_id::text || '/' || status FROM producer_keys WHERE fingerprint = $1",
                             [new.fingerprint]) == pid + "/pending")
        #expect(try h.count("SELECT count(*) FROM producers") == 1)
        #expect(try h.auditStatus(new.fingerprint, Self.nonce(of: fields)) == "pending")
    }

    @Test(arguments: ["6f1c1c38-52cd-4f2a-9d8e-000000000000", "not-a-uuid"])
    func unknownProducerIDIsDenied(producerID: String) throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        let fields = try OnboardingHarness.signedFields(producer, payload: #"{"producer_id":"\#(producerID)"}"#)
        #expect(try Self.register(h, fields) == [["fingerprint": producer.fingerprint, "status": "denied", "reason": "unknown_producer"]])
        #expect(try h.count("SELECT count(*) FROM producer_keys") == 0)
        #expect(try h.count("SELECT count(*) FROM producers") == 0)
        #expect(try h.auditStatus(producer.fingerprint, Self.nonce(of: fields)) == "rejected")
    }

    // MARK: refusals

    /// One refused certificate: response `invalid_cert`, audit row, nonce key with TTL, no key row.
    static func expectInvalidCert(_ h: OnboardingHarness, cert: String, keyPath: String, settings: OnboardingSettings? = nil,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let identity = ProducerIdentity(keyPath: keyPath, cert: cert)
        let fields = try OnboardingHarness.signedFields(identity, payload: "{}")
        let responses = try register(h, fields, settings: settings)
        let nonce = nonce(of: fields)
        #expect(responses == [["fingerprint": identity.fingerprint, "status": "invalid_cert",
                               "reason": "certificate_verification_failed"]], sourceLocation: sourceLocation)
        #expect(try h.auditStatus(identity.fingerprint, nonce) == "invalid_cert", sourceLocation: sourceLocation)
        #expect(try h.scalar("SELECT key_fingerprint FROM producer_registrations WHERE nonce = $1", [nonce]) == nil,
                sourceLocation: sourceLocation)
        #expect(try h.ttl("reg:nonce:\(identity.fingerprint):\(nonce)") > 0, sourceLocation: sourceLocation)
        #expect(try h.count("SELECT count(*) FROM producer_keys") == 0, sourceLocation: sourceLocation)
        #expect(try h.count("SELECT count(*) FROM producers") == 0, sourceLocation: sourceLocation)
    }

    @Test func expiredCertificateIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p")
        try Self.expectInvalidCert(h, cert: try h.certify(key, validity: "-2d:-1d"), keyPath: key)
    }

    @Test func notYetValidCertificateIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p")
        try Self.expectInvalidCert(h, cert: try h.certify(key, validity: "+1d:+2d"), keyPath: key)
    }

    @Test func certificateFromAnotherCAIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p")
        let other = try h.makeCA("other-ca")
        try Self.expectInvalidCert(h, cert: try h.certify(key, ca: other), keyPath: key)
    }

    @Test func hostCertificateIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p")
        try Self.expectInvalidCert(h, cert: try h.certify(key, host: true), keyPath: key)
    }

    @Test(arguments: ["force-command=/bin/true", "source-address=10.0.0.0/8"])
    func criticalOptionsAreRefused(option: String) throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p")
        try Self.expectInvalidCert(h, cert: try h.certify(key, options: [option]), keyPath: key)
    }

    @Test func wrongPrincipalIsRefusedWhenPrincipalsAreConfigured() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings(principals: ["feed-producer"])
        let key = try h.makeKey("p")
        try Self.expectInvalidCert(h, cert: try h.certify(key, principals: ["someone-else"]), keyPath: key, settings: settings)
        // The right principal passes the same checks (new key → pending, no response).
        let good = try h.producerIdentity("q", principals: ["x", "feed-producer"])
        let fields = try OnboardingHarness.signedFields(good, payload: "{}")
        #expect(try Self.register(h, fields, settings: settings).isEmpty)
        #expect(try h.auditStatus(good.fingerprint, Self.nonce(of: fields)) == "pending")
    }

    @Test func plainPublicKeyIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p")
        let line = try h.publicLine(key)
        try Self.expectInvalidCert(h, cert: line, keyPath: key)
        // A plain key is identified by its own key bytes, like a certificate of that key.
        #expect(KeyFingerprint.of(pubkey: line) == KeyFingerprint.of(pubkey: try h.certify(key)))
    }

    @Test func unparseableCAConfigurationRefusesEveryCertificate() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings(ca: "ssh-ed25519 not-base64!")
        #expect(settings.caProblem != nil)
        #expect(settings.certificatePolicy.caKey == nil)
        let key = try h.makeKey("p")
        try Self.expectInvalidCert(h, cert: try h.certify(key), keyPath: key, settings: settings)
    }

    @Test func tamperedPayloadFailsTheSignature() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        let nonce = OnboardingHarness.nonce()
        let sig = try OnboardingHarness.sign(payload: #"{"producer_hint":"a"}"#, nonce: nonce, keyPath: producer.keyPath)
        let fields = [("pubkey", producer.cert), ("payload", #"{"producer_hint":"b"}"#), ("nonce", nonce), ("sig", sig)]
        #expect(try Self.register(h, fields) == [["fingerprint": producer.fingerprint, "status": "invalid_sig",
                                                  "reason": "signature_verification_failed"]])
        #expect(try h.auditStatus(producer.fingerprint, nonce) == "invalid_sig")
        #expect(try h.ttl("reg:nonce:\(producer.fingerprint):\(nonce)") > 0)
        #expect(try h.count("SELECT count(*) FROM producer_keys") == 0)
    }

    @Test func signatureOverNonCanonicalTextStillVerifies() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let (producer, _) = try h.approvedProducer()
        // The kernel canonicalizes what it received; the producer signed the canonical form.
        let nonce = OnboardingHarness.nonce()
        let sent = "{ \"meta\" : {\"z\":\"1\",\"a\":\"<&>\"} ,\"contact\":\"x\" }"
        let sig = try OnboardingHarness.sign(payload: JSONCanonical.canonicalize(sent), nonce: nonce, keyPath: producer.keyPath)
        let responses = try Self.register(h, [("pubkey", producer.cert), ("payload", sent), ("nonce", nonce), ("sig", sig)])
        #expect(responses.first?["status"] == "approved")
    }

    @Test(arguments: ["urlsafe", "short", "long", "garbage", "padded"])
    func badSignatureEncodingsAreRefused(kind: String) throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        let nonce = OnboardingHarness.nonce()
        let payload = "{}"
        var sig = ""
        // Find a signature whose base64 uses + or / so the URL-safe spelling differs.
        for _ in 0..<64 {
            let candidateNonce = kind == "urlsafe" ? OnboardingHarness.nonce() : nonce
            sig = try OnboardingHarness.sign(payload: payload, nonce: candidateNonce, keyPath: producer.keyPath)
            if kind != "urlsafe" || sig.contains("+") || sig.contains("/") {
                return try check(h, producer, payload, candidateNonce, mangle(sig, kind), kind: kind)
            }
        }
        Issue.record("no signature with + or / found")
    }

    private func mangle(_ sig: String, _ kind: String) -> String {
        let raw = Data(base64Encoded: sig)!
        switch kind {
        case "urlsafe": return sig.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        case "short": return raw.prefix(63).base64EncodedString()
        case "long": return (raw + Data([0])).base64EncodedString()
        case "garbage": return "!!!not base64!!!"
        default: return sig // "padded": the valid padded form
        }
    }

    private func check(_ h: OnboardingHarness, _ producer: ProducerIdentity, _ payload: String, _ nonce: String, _ sig: String,
                       kind: String) throws {
        let responses = try Self.register(h, [("pubkey", producer.cert), ("payload", payload), ("nonce", nonce), ("sig", sig)])
        if kind == "padded" {
            // Standard padded base64 is accepted (a new key: pending, no response).
            #expect(responses.isEmpty)
            #expect(try h.auditStatus(producer.fingerprint, nonce) == "pending")
        } else {
            #expect(responses.first?["status"] == "invalid_sig")
            #expect(try h.auditStatus(producer.fingerprint, nonce) == "invalid_sig")
        }
    }

    @Test func replayedNonceIsAuditedAndAnswered() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let (producer, pid) = try h.approvedProducer()
        let fields = try OnboardingHarness.signedFields(producer, payload: "{}")
        let settings = try h.settings()
        _ = try Self.register(h, fields, settings: settings)
        let responses = try Self.register(h, fields, settings: settings)
        #expect(responses.count == 2)
        #expect(responses.first == ["fingerprint": producer.fingerprint, "producer_id": pid, "status": "approved"])
        #expect(responses.last == ["status": "replay", "reason": "duplicate_nonce"])
        let nonce = Self.nonce(of: fields)
        #expect(try h.auditStatus(producer.fingerprint, nonce) == "replay")
        #expect(try h.scalar("SELECT reason FROM producer_registrations WHERE nonce = $1", [nonce]) == "duplicate_nonce")
        #expect(try h.ttl("reg:nonce:\(producer.fingerprint):\(nonce)") > 0)
        // Sticky: the same pair seen again (nonce key expired) keeps `replay`.
        _ = try h.redis.command(["DEL", h.prefix + "reg:nonce:\(producer.fingerprint):\(nonce)"])
        _ = try Self.register(h, fields, settings: settings)
        #expect(try h.auditStatus(producer.fingerprint, nonce) == "replay")
    }

    /// A signed deregistration captured from the stream and replayed after the Redis nonce key is
    /// gone (expired after an hour, or Redis was down) must not disable the producer again: the
    /// audit table's (fingerprint, nonce) row is the lasting record.
    @Test func oldDeregistrationReplayedAfterTheNonceKeyExpiredIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let (producer, pid) = try h.approvedProducer()
        let deregister = try OnboardingHarness.signedFields(producer, payload: "{}", extra: [("action", "deregister")])
        #expect(try Self.register(h, deregister, settings: settings).first?["status"] == "deregistered")
        let again = try OnboardingHarness.signedFields(producer, payload: "{}")
        #expect(try Self.register(h, again, settings: settings).first?["status"] == "approved")
        #expect(try h.scalar("SELECT disabled_at IS NULL FROM producers WHERE producer_id = $1::uuid", [pid]) == "t")
        let nonce = Self.nonce(of: deregister)
        _ = try h.redis.command(["DEL", h.prefix + "reg:nonce:\(producer.fingerprint):\(nonce)"])
        let replayed = try Self.register(h, deregister, settings: settings)
        #expect(replayed.last == ["status": "replay", "reason": "duplicate_nonce"])
        #expect(try h.scalar("SELECT disabled_at IS NULL FROM producers WHERE producer_id = $1::uuid", [pid]) == "t",
                "the replay did not disable the producer again")
    }

    @Test func rateLimitedRequestLeavesNoTrace() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        h.authYAML = ["registration_rate_limit_rpm: 1", "registration_rate_limit_burst: 1"]
        let settings = try h.settings()
        let (producer, _) = try h.approvedProducer()
        let first = try OnboardingHarness.signedFields(producer, payload: "{}")
        let second = try OnboardingHarness.signedFields(producer, payload: "{}")
        #expect(try Self.register(h, first, settings: settings).first?["status"] == "approved")
        #expect(try Self.register(h, second, settings: settings) == [["status": "rate_limited"]])
        let nonce = Self.nonce(of: second)
        #expect(try h.auditStatus(producer.fingerprint, nonce) == nil)
        #expect(try h.exists("reg:nonce:\(producer.fingerprint):\(nonce)") == false)
        #expect(try h.ttl("rl:reg:" + producer.fingerprint) > 0)
    }

    @Test func rateLimitIdentityIsTheRequestedProducer() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        h.authYAML = ["registration_rate_limit_rpm: 1", "registration_rate_limit_burst: 1"]
        let settings = try h.settings()
        let pid = try h.insertProducer()
        let a = try h.producerIdentity("a"), b = try h.producerIdentity("b")
        _ = try Self.register(h, try OnboardingHarness.signedFields(a, payload: #"{"producer_id":"\#(pid)"}"#), settings: settings)
        let second = try Self.register(h, try OnboardingHarness.signedFields(b, payload: #"{"producer_id":"\#(pid)"}"#), settings: settings)
        #expect(second == [["status": "rate_limited"]])
        #expect(try h.exists("rl:reg:" + pid))
    }

    @Test func deregistrationDisablesTheBoundProducerAndRegistrationReenables() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let (producer, pid) = try h.approvedProducer()
        let other = try h.insertProducer("same-hint")
        // The hint names another producer: only the key's own producer is disabled.
        let fields = try OnboardingHarness.signedFields(producer, payload: #"{"producer_hint":"same-hint"}"#,
                                                        extra: [("action", "deregister")])
        #expect(try Self.register(h, fields, settings: settings)
                == [["fingerprint": producer.fingerprint, "producer_id": pid, "status": "deregistered"]])
        #expect(try h.scalar("SELECT disabled_at IS NOT NULL FROM producers WHERE producer_id = $1::uuid", [pid]) == "t")
        #expect(try h.scalar("SELECT disabled_at IS NULL FROM producers WHERE producer_id = $1::uuid", [other]) == "t")
        #expect(try h.ttl("register:resp:" + Self.nonce(of: fields)) > 0)
        // A later successful registration of the approved key clears the block.
        let again = try OnboardingHarness.signedFields(producer, payload: "{}")
        #expect(try Self.register(h, again, settings: settings).first?["status"] == "approved")
        #expect(try h.scalar("SELECT disabled_at IS NULL FROM producers WHERE producer_id = $1::uuid", [pid]) == "t")
    }

    @Test func deregistrationNeedsAnApprovedKey() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let victim = try h.producerIdentity("victim")
        let pid = try h.insertKey(victim, status: "approved")
        // A pending key bound to the victim (rotation request) cannot disable it.
        let attacker = try h.producerIdentity("attacker")
        try h.insertKey(attacker, status: "pending", producer: pid)
        let fields = try OnboardingHarness.signedFields(attacker, payload: "{}", extra: [("action", "deregister")])
        #expect(try Self.register(h, fields, settings: settings)
                == [["fingerprint": attacker.fingerprint, "producer_id": pid, "status": "denied", "reason": "pending"]])
        #expect(try h.scalar("SELECT disabled_at IS NULL FROM producers WHERE producer_id = $1::uuid", [pid]) == "t")
        // An unknown key is denied too, and creates nothing.
        let stranger = try h.producerIdentity("stranger")
        let strangerFields = try OnboardingHarness.signedFields(stranger, payload: "{}", extra: [("action", "deregister")])
        #expect(try Self.register(h, strangerFields, settings: settings)
                == [["fingerprint": stranger.fingerprint, "status": "denied", "reason": "unknown_key"]])
        #expect(try h.count("SELECT count(*) FROM producer_keys") == 2)
    }

    @Test func deregistrationPassesTheSameChecks() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let (producer, pid) = try h.approvedProducer()
        let nonce = OnboardingHarness.nonce()
        let sig = try OnboardingHarness.sign(payload: #"{"x":"1"}"#, nonce: nonce, keyPath: producer.keyPath)
        let responses = try Self.register(h, [("pubkey", producer.cert), ("payload", "{}"), ("nonce", nonce), ("sig", sig),
                                              ("action", "deregister")])
        #expect(responses.first?["status"] == "invalid_sig")
        #expect(try h.scalar("SELECT disabled_at IS NULL FROM producers WHERE producer_id = $1::uuid", [pid]) == "t")
    }

    @Test(arguments: [
        "{", "[]", "\"text\"", "42", #"{"producer_hint":1}"#, #"{"meta":{"a":1}}"#, #"{"meta":[]}"#,
        #"{"contact":{"a":"b"}}"#, #"{"meta":{"a":{"b":"c"}}}"#, #"{"producer_id":true}"#,
    ])
    func invalidPayloadIsDroppedSilently(payload: String) throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let producer = try h.producerIdentity()
        let fields = try OnboardingHarness.signedFields(producer, payload: payload)
        #expect(try Self.register(h, fields).isEmpty)
        #expect(try h.count("SELECT count(*) FROM producer_registrations") == 0)
        #expect(try h.exists("reg:nonce:\(producer.fingerprint):\(Self.nonce(of: fields))") == false)
    }

    @Test func nullMembersCountAsAbsent() throws {
        #expect(RegistrationPayload.parse(Array(#"{"producer_hint":null,"meta":null,"extra":[1,2]}"#.utf8)) == RegistrationPayload())
    }

    @Test(arguments: ["pubkey", "payload", "nonce", "sig"])
    func missingOrEmptyFieldIsDroppedSilently(field: String) throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let (producer, _) = try h.approvedProducer()
        for variant in ["absent", "empty"] {
            var fields = try OnboardingHarness.signedFields(producer, payload: "{}")
            let nonce = Self.nonce(of: fields)
            fields = variant == "absent" ? fields.filter { $0.0 != field } : fields.map { $0.0 == field ? ($0.0, "") : $0 }
            let settings = try h.settings()
            RegistrationHandler(settings: settings).handle(OnboardingHarness.message(fields), context: try h.context(settings: settings))
            #expect(try h.responses("register:resp:" + nonce).isEmpty)
            #expect(try h.count("SELECT count(*) FROM producer_registrations") == 0)
        }
    }
}
