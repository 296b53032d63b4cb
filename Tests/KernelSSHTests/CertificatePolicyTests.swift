import Foundation
import Testing
@testable import KernelSSH
import KernelCrypto

@Suite("CertificatePolicy with ssh-keygen material")
struct CertificatePolicyTests {
    let f = Fixture.shared
    let now: Int64 = 1_800_000_000

    static let caCases: [(ca: String, signatureAlgorithm: String?)] = [
        ("ed25519", nil), ("ecdsa256", nil), ("ecdsa384", nil), ("ecdsa521", nil),
        ("rsa3072", "rsa-sha2-256"), ("rsa3072", "rsa-sha2-512"),
    ]

    @Test("a user certificate from every CA type verifies", arguments: caCases)
    func everyCAType(_ c: (ca: String, signatureAlgorithm: String?)) throws {
        let line = try #require(f.material.certify(f.user, ca: f.cas[c.ca]!, id: "id-\(c.ca)", principals: ["producer", "p2"],
                                                   validity: "always:forever", signatureAlgorithm: c.signatureAlgorithm,
                                                   serial: 4242, name: "every-\(c.ca)-\(c.signatureAlgorithm ?? "")"))
        let policy = CertificatePolicy.producer(caKey: f.caKey(c.ca), principals: ["p2"])
        let checked = try policy.check(certLine: line, now: now).get()
        #expect(checked.keyID == "id-\(c.ca)")
        #expect(checked.principals == ["producer", "p2"])
        #expect(checked.serial == 4242)
        #expect(checked.comment == "user@test")
        let plain = try SSHPublicKey.parse(authorizedKeysLine: f.material.publicLine(f.user))
        #expect(checked.certifiedKey == plain)
        #expect(checked.fingerprint == plain.fingerprint)
        #expect(checked.certificate.kind == .user)
        // Every CA type also fails against another CA.
        let other = CertificatePolicy.producer(caKey: f.caKey("other"))
        #expect(other.check(certLine: line, now: now).failureReason == .wrongCA)
    }

    @Test("the signed RSA signature names the algorithm asked for")
    func rsaSignatureAlgorithm() throws {
        for alg in ["rsa-sha2-256", "rsa-sha2-512"] {
            let line = try #require(f.material.certify(f.user, ca: f.cas["rsa3072"]!, validity: "always:forever",
                                                       signatureAlgorithm: alg, name: "rsa-alg-\(alg)"))
            let cert = try SSHCertificate.parse(wire: splitLine(line).blob)
            var r = SSHWireReader(cert.signature)
            #expect(r.readString().map { String(decoding: $0, as: UTF8.self) } == alg)
        }
    }

    @Test("fingerprint is SHA3-512 over the certified key's wire encoding (checked with the openssl CLI)")
    func fingerprintMatchesOpenSSL() throws {
        let plain = try SSHPublicKey.parse(authorizedKeysLine: f.material.publicLine(f.user))
        let r = run("/usr/bin/openssl", ["dgst", "-sha3-512", "-binary"], stdin: Data(plain.wireEncoding))
        #expect(r.status == 0)
        #expect(plain.fingerprint == Data(r.out).base64EncodedString())
        #expect(plain.fingerprint.count == 88)
        // The wire encoding is string "ssh-ed25519" + string key32: 4+11+4+32 bytes.
        #expect(plain.wireEncoding.count == 51)
        // A renewed certificate (new serial, new validity) keeps the fingerprint.
        let a = try CertificatePolicy.producer(caKey: f.caKey("ed25519")).check(certLine: f.basicCert(name: "fp-a"), now: now).get()
        let line = try #require(f.material.certify(f.user, ca: f.cas["ed25519"]!, validity: "-1d:+1d", serial: 99, name: "fp-b"))
        let b = try CertificatePolicy.producer(caKey: f.caKey("ed25519"))
            .check(certLine: line, now: Int64(Date().timeIntervalSince1970)).get()
        #expect(a.fingerprint == b.fingerprint && a.fingerprint == plain.fingerprint)
    }

    @Test("validity window edges, skew, and unsigned comparisons")
    func validity() throws {
        let line = try #require(f.material.certify(f.user, ca: f.cas["ed25519"]!, validity: "20300101:20300201", name: "window"))
        let cert = try SSHCertificate.parse(wire: splitLine(line).blob)
        let after = Int64(cert.validAfter), before = Int64(cert.validBefore)
        #expect(before - after == 31 * 86400)
        let policy = CertificatePolicy.producer(caKey: f.caKey("ed25519"))
        #expect(policy.check(certLine: line, now: after - 1).failureReason == .notYetValid)
        #expect(policy.check(certLine: line, now: after).failureReason == nil)
        #expect(policy.check(certLine: line, now: before).failureReason == nil)
        #expect(policy.check(certLine: line, now: before + 1).failureReason == .expired)
        #expect(policy.check(certLine: line, now: Int64.min).failureReason == .notYetValid)
        #expect(policy.check(certLine: line, now: Int64.max).failureReason == .expired)
        var skewed = policy
        skewed.skewSeconds = 60
        #expect(skewed.check(certLine: line, now: after - 60).failureReason == nil)
        #expect(skewed.check(certLine: line, now: after - 61).failureReason == .notYetValid)
        #expect(skewed.check(certLine: line, now: before + 60).failureReason == nil)
        #expect(skewed.check(certLine: line, now: before + 61).failureReason == .expired)
        skewed.skewSeconds = UInt64.max
        #expect(skewed.check(certLine: line, now: 0).failureReason == nil)
        // The failure names the key id.
        if case .failure(let e) = policy.check(certLine: line, now: before + 1) {
            #expect(e.keyID == "test-id")
            #expect(e.description.contains("test-id"))
        }
    }

    @Test("relative validity: expired and not yet valid")
    func relativeValidity() throws {
        let nowReal = Int64(Date().timeIntervalSince1970)
        let policy = CertificatePolicy.producer(caKey: f.caKey("ed25519"))
        let expired = try #require(f.material.certify(f.user, ca: f.cas["ed25519"]!, validity: "-2h:-1h", name: "expired"))
        #expect(policy.check(certLine: expired, now: nowReal).failureReason == .expired)
        let future = try #require(f.material.certify(f.user, ca: f.cas["ed25519"]!, validity: "+1h:+2h", name: "future"))
        #expect(policy.check(certLine: future, now: nowReal).failureReason == .notYetValid)
    }

    @Test("always:forever is valid at every time (valid_before 2^64-1 is not an overflow)")
    func forever() throws {
        let line = f.basicCert(name: "forever")
        let cert = try SSHCertificate.parse(wire: splitLine(line).blob)
        #expect(cert.validAfter == 0 && cert.validBefore == UInt64.max)
        let policy = CertificatePolicy.producer(caKey: f.caKey("ed25519"))
        for t in [Int64.min, -1, 0, 1, now, Int64.max] {
            #expect(policy.check(certLine: line, now: t).failureReason == nil)
        }
    }

    @Test("host certificates are refused where user certificates are required, and the reverse")
    func hostCertificate() throws {
        let line = try #require(f.material.certify(f.user, ca: f.cas["ed25519"]!, principals: ["host.example"],
                                                   validity: "always:forever", host: true, name: "host"))
        #expect(CertificatePolicy.producer(caKey: f.caKey("ed25519")).check(certLine: line, now: now).failureReason == .wrongCertType)
        var hostPolicy = CertificatePolicy.producer(caKey: f.caKey("ed25519"))
        hostPolicy.requireType = .host
        #expect(hostPolicy.check(certLine: line, now: now).failureReason == nil)
        #expect(hostPolicy.check(certLine: f.basicCert(name: "user-for-host"), now: now).failureReason == .wrongCertType)
    }

    @Test("critical options: producers accept none, admins only source-address")
    func criticalOptions() throws {
        let ca = f.caKey("ed25519")
        let force = f.basicCert(name: "force", principals: ["admin"], options: ["force-command=/bin/true"])
        let source = f.basicCert(name: "source", principals: ["admin"], options: ["source-address=10.0.0.0/8,127.0.0.1"])
        let both = f.basicCert(name: "both", principals: ["admin"],
                               options: ["source-address=10.0.0.0/8", "force-command=/bin/true"])
        let producer = CertificatePolicy.producer(caKey: ca)
        let admin = CertificatePolicy.admin(caKey: ca, principal: "admin")
        #expect(producer.check(certLine: force, now: now).failureReason == .unknownCriticalOption)
        #expect(producer.check(certLine: source, now: now).failureReason == .unknownCriticalOption)
        #expect(admin.check(certLine: force, now: now).failureReason == .unknownCriticalOption)
        #expect(admin.check(certLine: both, now: now).failureReason == .unknownCriticalOption)
        let ok = try admin.check(certLine: source, now: now).get()
        #expect(ok.criticalOptions.map(\.name) == ["source-address"])
        #expect(ok.criticalOptions.first?.value == "10.0.0.0/8,127.0.0.1")
        // Extensions (permit-pty etc., on by default) are not critical and never refuse.
        #expect(ok.certificate.extensions.contains { $0.name == "permit-pty" })
    }

    @Test("principals")
    func principals() throws {
        let ca = f.caKey("ed25519")
        let two = f.basicCert(name: "two-principals", principals: ["producer", "admin"])
        let none = f.basicCert(name: "no-principals", principals: [])
        #expect(CertificatePolicy.producer(caKey: ca).check(certLine: none, now: now).failureReason == nil)
        #expect(CertificatePolicy.producer(caKey: ca, principals: ["producer"]).check(certLine: two, now: now).failureReason == nil)
        #expect(CertificatePolicy.producer(caKey: ca, principals: ["x", "admin"]).check(certLine: two, now: now).failureReason == nil)
        #expect(CertificatePolicy.producer(caKey: ca, principals: ["Producer"]).check(certLine: two, now: now).failureReason
                == .principalMismatch)
        #expect(CertificatePolicy.producer(caKey: ca, principals: ["producer"]).check(certLine: none, now: now).failureReason
                == .principalMismatch)
        #expect(CertificatePolicy.admin(caKey: ca, principal: "admin").check(certLine: two, now: now).failureReason == nil)
        #expect(CertificatePolicy.admin(caKey: ca, principal: "root").check(certLine: two, now: now).failureReason
                == .principalMismatch)
        #expect(CertificatePolicy.admin(caKey: ca, principal: nil).check(certLine: two, now: now).failureReason == nil)
        #expect(CertificatePolicy.admin(caKey: ca, principal: nil).check(certLine: none, now: now).failureReason
                == .principalMismatch)
    }

    @Test("wrong CA, no CA, plain key, non-Ed25519 certified key")
    func refusals() throws {
        let line = f.basicCert(name: "refusals")
        #expect(CertificatePolicy.producer(caKey: nil).check(certLine: line, now: now).failureReason == .wrongCA)
        #expect(CertificatePolicy.producer(caKey: f.caKey("ecdsa256")).check(certLine: line, now: now).failureReason == .wrongCA)
        let policy = CertificatePolicy.producer(caKey: f.caKey("ed25519"))
        #expect(policy.check(certLine: f.material.publicLine(f.user), now: now).failureReason == .plainKey)
        #expect(policy.check(certLine: f.material.publicLine(f.cas["rsa3072"]!), now: now).failureReason == .plainKey)
        let ecdsaUser = try #require(f.material.certify(f.userECDSA, ca: f.cas["ed25519"]!, validity: "always:forever",
                                                        name: "ecdsa-user"))
        #expect(policy.check(certLine: ecdsaUser, now: now).failureReason == .unsupportedKeyType)
        var any = policy
        any.acceptedCertifiedKeys = Set(SSHPublicKey.Algorithm.allCases)
        #expect(any.check(certLine: ecdsaUser, now: now).failureReason == nil)
    }

    @Test("ssh-rsa (SHA-1) CA signatures are refused")
    func sha1Refused() throws {
        let ca = f.caKey("rsa3072")
        let policy = CertificatePolicy.producer(caKey: ca)
        if let line = f.material.certify(f.user, ca: f.cas["rsa3072"]!, validity: "always:forever",
                                         signatureAlgorithm: "ssh-rsa", name: "sha1") {
            #expect(policy.check(certLine: line, now: now).failureReason == .weakSignatureAlgorithm)
        }
        // Independently of ssh-keygen's willingness: relabel an rsa-sha2-256 signature as ssh-rsa.
        let good = try #require(f.material.certify(f.user, ca: f.cas["rsa3072"]!, validity: "always:forever",
                                                   signatureAlgorithm: "rsa-sha2-256", name: "relabel"))
        #expect(policy.check(certLine: good, now: now).failureReason == nil)
        let (type, blob, rest) = splitLine(good)
        let cert = try SSHCertificate.parse(wire: blob)
        var sigReader = SSHWireReader(cert.signature)
        _ = sigReader.readString()
        let rawRead = sigReader.readString()
        let raw = try #require(rawRead)
        var sig = SSHWireWriter()
        sig.writeString("ssh-rsa")
        sig.writeString(raw)
        var forged = SSHWireWriter()
        forged.writeString(sig.bytes)
        let relabelled = Array(blob[0..<cert.signedBytes.count]) + forged.bytes
        #expect(policy.check(certLine: joinLine(type, relabelled, rest), now: now).failureReason == .weakSignatureAlgorithm)
        // And an unknown signature name is simply a bad signature.
        var other = SSHWireWriter()
        other.writeString("rsa-sha2-384")
        other.writeString(raw)
        var otherOuter = SSHWireWriter()
        otherOuter.writeString(other.bytes)
        #expect(policy.check(certLine: joinLine(type, Array(blob[0..<cert.signedBytes.count]) + otherOuter.bytes, rest),
                             now: now).failureReason == .badCASignature)
    }

    @Test("a forged certificate naming the CA fails the signature check")
    func forgedSignature() throws {
        // Sign with another CA, then replace the signature-key field by the configured CA's key.
        let line = try #require(f.material.certify(f.user, ca: f.otherCA, validity: "always:forever", name: "forged"))
        let (type, blob, rest) = splitLine(line)
        let cert = try SSHCertificate.parse(wire: blob)
        // signedBytes ends with string(signature key): swap that field.
        let keyFieldLength = 4 + cert.signatureKeyWire.count
        let prefix = Array(cert.signedBytes.dropLast(keyFieldLength))
        var w = SSHWireWriter()
        w.writeString(f.caKey("ed25519").wireEncoding)
        w.writeString(cert.signature)
        let forged = prefix + w.bytes
        let policy = CertificatePolicy.producer(caKey: f.caKey("ed25519"))
        #expect(policy.check(certLine: joinLine(type, forged, rest), now: now).failureReason == .badCASignature)
    }

    @Test("line syntax: whitespace, newline, comments, base64, type mismatch")
    func lineSyntax() throws {
        let line = f.basicCert(name: "syntax").trimmingCharacters(in: .newlines)
        let policy = CertificatePolicy.producer(caKey: f.caKey("ed25519"))
        #expect(policy.check(certLine: line, now: now).failureReason == nil)
        #expect(policy.check(certLine: "  \t" + line + " \r\n", now: now).failureReason == nil)
        let (type, blob, _) = splitLine(line)
        #expect(policy.check(certLine: "\(type) \(Base64.standardEncode(blob))", now: now).failureReason == nil)
        #expect(policy.check(certLine: "\(type) \(Base64.standardEncode(blob)) a comment with spaces", now: now).failureReason == nil)
        let unpadded = Base64.standardEncode(blob).replacingOccurrences(of: "=", with: "")
        #expect(policy.check(certLine: "\(type) \(unpadded)", now: now).failureReason == nil)
        #expect(policy.check(certLine: "\(type) \(Base64.standardEncode(blob))\nsecond line", now: now).failureReason == .malformed)
        #expect(policy.check(certLine: "", now: now).failureReason == .notACertificate)
        #expect(policy.check(certLine: "   \n", now: now).failureReason == .notACertificate)
        #expect(policy.check(certLine: "hello world", now: now).failureReason == .notACertificate)
        #expect(policy.check(certLine: type, now: now).failureReason == .malformed)
        #expect(policy.check(certLine: "\(type) !!!notbase64", now: now).failureReason == .malformed)
        let urlSafe = Base64.standardEncode(blob).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        if urlSafe != Base64.standardEncode(blob) {
            #expect(policy.check(certLine: "\(type) \(urlSafe)", now: now).failureReason == .malformed)
        }
        #expect(policy.check(certLine: "ssh-dss AAAA", now: now).failureReason == .plainKey)
        #expect(policy.check(certLine: "sk-ssh-ed25519-cert-v01@openssh.com AAAA", now: now).failureReason == .unsupportedKeyType)
        // The line names another certificate type than the blob.
        #expect(policy.check(certLine: "ecdsa-sha2-nistp256-cert-v01@openssh.com \(Base64.standardEncode(blob))", now: now)
            .failureReason == .malformed)
        // The line names a certificate but holds a plain key.
        let plainBlob = splitLine(f.material.publicLine(f.user)).blob
        #expect(policy.check(certLine: "\(type) \(Base64.standardEncode(plainBlob))", now: now).failureReason == .malformed)
        // Oversized input.
        #expect(policy.check(certLine: type + " " + String(repeating: "A", count: 100_000), now: now).failureReason
                == .malformed)
    }
}

extension Result where Failure == CertificateError {
    /// The refusal reason, or nil on success.
    var failureReason: CertificateError.Reason? {
        if case .failure(let e) = self { return e.reason }
        return nil
    }
}
