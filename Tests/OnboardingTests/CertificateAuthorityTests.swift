import Foundation
@testable import KernelOnboarding
import Testing

/// Producer CAs of every supported key type (docs/protocol.md, "OpenSSH certificates"); ssh-rsa (SHA-1) signatures
/// refused.
@Suite("CertificateAuthorities")
struct CertificateAuthorityTests {
    @Test(arguments: [
        ("ed25519", nil, nil), ("ecdsa", 256, nil), ("ecdsa", 384, nil), ("ecdsa", 521, nil),
        ("rsa", 2048, "rsa-sha2-256"), ("rsa", 2048, "rsa-sha2-512"),
    ] as [(String, Int?, String?)])
    func caOfEachKeyTypeIsAccepted(type: String, bits: Int?, algorithm: String?) throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let ca = try h.makeCA("ca-\(type)", type: type, bits: bits)
        let settings = try h.settings(ca: ca + ".pub")
        let key = try h.makeKey("p")
        let producer = ProducerIdentity(keyPath: key, cert: try h.certify(key, ca: ca, signatureAlgorithm: algorithm))
        let pid = try h.insertKey(producer, status: "approved")
        let fields = try OnboardingHarness.signedFields(producer, payload: "{}")
        let responses = try RegistrationTests.register(h, fields, settings: settings)
        #expect(responses == [["fingerprint": producer.fingerprint, "producer_id": pid, "status": "approved"]])
        // Token exchange applies the same checks and accepts it too.
        #expect(try TokenExchangeTests.exchange(h, try OnboardingHarness.signedFields(producer, payload: "{}"), producer: pid,
                                                settings: settings).count == 1)
    }

    @Test func sha1RSASignatureIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let ca = try h.makeCA("ca-rsa", type: "rsa", bits: 2048)
        let settings = try h.settings(ca: ca + ".pub")
        let key = try h.makeKey("p")
        try RegistrationTests.expectInvalidCert(h, cert: try h.certify(key, ca: ca, signatureAlgorithm: "ssh-rsa"), keyPath: key,
                                                settings: settings)
    }

    @Test func nonEd25519CertifiedKeyIsRefused() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p-ecdsa", type: "ecdsa", bits: 256)
        let identity = ProducerIdentity(keyPath: key, cert: try h.certify(key))
        // Any signature: the certificate is refused first (unsupported_key_type).
        let fields = [("pubkey", identity.cert), ("payload", "{}"), ("nonce", OnboardingHarness.nonce()),
                      ("sig", String(repeating: "A", count: 86))]
        let responses = try RegistrationTests.register(h, fields)
        #expect(responses == [["fingerprint": identity.fingerprint, "status": "invalid_cert",
                               "reason": "certificate_verification_failed"]])
    }
}
