import Foundation
import Testing
@testable import KernelSSH
import KernelJSON
import KernelCrypto

/// Ed25519 keys made and used by the openssl CLI, certified by ssh-keygen: an independent signer.
@Suite("Producer signatures")
struct ProducerSignatureTests {
    let f = Fixture.shared

    /// Makes an Ed25519 key with openssl; returns (PEM private key path, SSH public key).
    func opensslKey(_ name: String) throws -> (pem: String, key: SSHPublicKey) {
        let pem = f.material.dir + "/\(name).pem"
        let gen = run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", pem])
        try #require(gen.status == 0, "\(gen.err)")
        let der = run("/usr/bin/openssl", ["pkey", "-in", pem, "-pubout", "-outform", "DER"])
        try #require(der.status == 0 && der.out.count == 44)
        var w = SSHWireWriter()
        w.writeString("ssh-ed25519")
        w.writeString(Array(der.out.suffix(32)))
        return (pem, try SSHPublicKey.parse(wire: w.bytes))
    }

    func sign(_ pem: String, _ message: [UInt8]) throws -> [UInt8] {
        let msgPath = f.material.dir + "/msg-\(UInt64.random(in: 0...UInt64.max))"
        try Data(message).write(to: URL(fileURLWithPath: msgPath))
        let r = run("/usr/bin/openssl", ["pkeyutl", "-sign", "-inkey", pem, "-rawin", "-in", msgPath])
        try #require(r.status == 0, "\(r.err)")
        return Array(r.out)
    }

    @Test("a signature over Canonical(payload).nonce by the certified key verifies; everything else fails")
    func roundTrip() throws {
        let (pem, key) = try opensslKey("producer")
        // Certify the openssl-made key with ssh-keygen and take the certified key from the check.
        let pubPath = f.material.dir + "/producer-ossl"
        try (key.authorizedKeysLine + " producer\n").write(toFile: pubPath + ".pub", atomically: true, encoding: .utf8)
        let line = try #require(f.material.certify(pubPath, ca: f.cas["ed25519"]!, validity: "always:forever", name: "ossl"))
        let checked = try CertificatePolicy.producer(caKey: f.caKey("ed25519")).check(certLine: line, now: 1).get()
        #expect(checked.certifiedKey == key)

        let payload = Array(#"{ "producer_hint": "acme", "contact": "a<b>&c", "n": 1.0 }"#.utf8)
        let message = ProducerSignature.signingBytes(payload: payload, nonce: "n0nce")
        #expect(String(decoding: message, as: UTF8.self) == #"{"contact":"a\u003cb\u003e\u0026c","n":1,"producer_hint":"acme"}.n0nce"#)
        let signature = try sign(pem, message)
        #expect(signature.count == 64)
        let padded = Base64.standardEncode(signature)
        let unpadded = padded.replacingOccurrences(of: "=", with: "")
        #expect(padded.hasSuffix("=="))
        #expect(verifyProducerSignature(certifiedKey: checked.certifiedKey, message: message, signatureBase64: unpadded))
        #expect(verifyProducerSignature(certifiedKey: checked.certifiedKey, message: message, signatureBase64: padded))
        // Wrong message, wrong nonce, wrong key.
        #expect(!verifyProducerSignature(certifiedKey: key, message: message + [0x20], signatureBase64: padded))
        #expect(!verifyProducerSignature(certifiedKey: key, message: ProducerSignature.signingBytes(payload: payload, nonce: "x"),
                                         signatureBase64: padded))
        let other = try SSHPublicKey.parse(authorizedKeysLine: f.material.publicLine(f.user))
        #expect(!verifyProducerSignature(certifiedKey: other, message: message, signatureBase64: padded))
        // Non-Ed25519 keys never verify producer signatures.
        #expect(!verifyProducerSignature(certifiedKey: f.caKey("ecdsa256"), message: message, signatureBase64: padded))
        // Encodings: URL-safe, whitespace, wrong lengths, garbage.
        let urlSafe = unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        if urlSafe != unpadded {
            #expect(!verifyProducerSignature(certifiedKey: key, message: message, signatureBase64: urlSafe))
        }
        #expect(!verifyProducerSignature(certifiedKey: key, message: message, signatureBase64: " " + padded))
        #expect(!verifyProducerSignature(certifiedKey: key, message: message, signatureBase64: padded + "\n"))
        #expect(!verifyProducerSignature(certifiedKey: key, message: message,
                                         signatureBase64: Base64.standardEncode(Array(signature.prefix(63)))))
        #expect(!verifyProducerSignature(certifiedKey: key, message: message, signatureBase64: Base64.standardEncode(signature + [0])))
        #expect(!verifyProducerSignature(certifiedKey: key, message: message, signatureBase64: ""))
        #expect(!verifyProducerSignature(certifiedKey: key, message: message, signatureBase64: "!!!!"))
        // Every single-bit change of the signature fails.
        for i in 0..<64 {
            var bad = signature
            bad[i] ^= 0x04
            #expect(!verifyProducerSignature(certifiedKey: key, message: message, signatureBase64: Base64.standardEncode(bad)))
        }
    }

    @Test("empty message and admin signing string")
    func adminAndEmpty() throws {
        let (pem, key) = try opensslKey("admin")
        let empty: [UInt8] = []
        let sig = try sign(pem, Array("x".utf8))
        #expect(!verifyProducerSignature(certifiedKey: key, message: empty, signatureBase64: Base64.standardEncode(sig)))
        let adminMessage = ProducerSignature.adminSigningBytes(body: [], method: "post", path: "/admin/keys/approve", nonce: "abc")
        #expect(String(decoding: adminMessage, as: UTF8.self) == "{}\nPOST\n/admin/keys/approve\nabc")
        let adminSig = try sign(pem, adminMessage)
        #expect(verifyProducerSignature(certifiedKey: key, message: adminMessage, signatureBase64: Base64.standardEncode(adminSig)))
    }
}
