import Foundation
import Testing
@testable import KernelSSH

@Suite("SSHPublicKey and CA configuration")
struct SSHPublicKeyTests {
    let f = Fixture.shared

    @Test("keys of every type parse, re-encode identically, and compare by wire encoding")
    func parseAll() throws {
        for (name, path) in f.cas {
            let line = f.material.publicLine(path)
            let key = try SSHPublicKey.parse(authorizedKeysLine: line)
            #expect(key.wireEncoding == splitLine(line).blob, "\(name)")
            #expect(try SSHPublicKey.parse(wire: key.wireEncoding) == key)
            #expect(try SSHPublicKey.parse(authorizedKeysLine: key.authorizedKeysLine) == key)
            #expect(key != f.caKey("other"))
        }
        #expect(try SSHPublicKey.parse(authorizedKeysLine: f.material.publicLine(f.user)).ed25519Bytes?.count == 32)
    }

    @Test("wire parsing refuses trailing bytes, wrong curve names, bad lengths, off-curve points")
    func refusals() throws {
        let ecdsa = try SSHPublicKey.parse(authorizedKeysLine: f.material.publicLine(f.cas["ecdsa256"]!))
        #expect(throws: SSHKeyError.self) { try SSHPublicKey.parse(wire: ecdsa.wireEncoding + [0]) }
        // Point moved off the curve.
        var offCurve = ecdsa.wireEncoding
        offCurve[offCurve.count - 1] ^= 0x01
        do {
            _ = try SSHPublicKey.parse(wire: offCurve)
            Issue.record("off-curve point accepted")
        } catch {
            #expect(error.reason == .weakKey)
        }
        // Compressed point refused.
        var compressed = SSHWireWriter()
        compressed.writeString("ecdsa-sha2-nistp256")
        compressed.writeString("nistp256")
        compressed.writeString([0x02] + [UInt8](repeating: 1, count: 32))
        #expect(throws: SSHKeyError.self) { try SSHPublicKey.parse(wire: compressed.bytes) }
        // Curve name differs from the type.
        var wrongCurve = SSHWireWriter()
        wrongCurve.writeString("ecdsa-sha2-nistp256")
        wrongCurve.writeString("nistp384")
        wrongCurve.writeString([0x04] + [UInt8](repeating: 1, count: 64))
        #expect(throws: SSHKeyError.self) { try SSHPublicKey.parse(wire: wrongCurve.bytes) }
        // Ed25519 of the wrong length.
        var shortEd = SSHWireWriter()
        shortEd.writeString("ssh-ed25519")
        shortEd.writeString([UInt8](repeating: 1, count: 31))
        #expect(throws: SSHKeyError.self) { try SSHPublicKey.parse(wire: shortEd.bytes) }
        // Unsupported and certificate types.
        var dss = SSHWireWriter()
        dss.writeString("ssh-dss")
        do {
            _ = try SSHPublicKey.parse(wire: dss.bytes)
        } catch {
            #expect(error.reason == .unsupportedKeyType)
        }
        let certBlob = splitLine(f.basicCert(name: "not-a-key")).blob
        do {
            _ = try SSHPublicKey.parse(wire: certBlob)
        } catch {
            #expect(error.reason == .isCertificate)
        }
        // Line type must equal the blob type.
        let edLine = f.material.publicLine(f.user)
        #expect(throws: SSHKeyError.self) {
            try SSHPublicKey.parse(authorizedKeysLine: "ssh-rsa " + edLine.split(separator: " ")[1])
        }
    }

    @Test("RSA keys below 2048 bits are refused")
    func weakRSA() throws {
        let small = f.material.key("rsa1024", type: "rsa", bits: 1024)
        do {
            _ = try SSHPublicKey.parse(authorizedKeysLine: f.material.publicLine(small))
            Issue.record("1024-bit RSA accepted")
        } catch {
            #expect(error.reason == .weakKey)
        }
        if case .failure(let e) = SSHPublicKey.load(configValue: small + ".pub") {
            #expect(e.reason == .weakKey)
        } else {
            Issue.record("1024-bit RSA CA loaded")
        }
    }

    @Test("CA config values: text, file path, options prefix, errors")
    func load() throws {
        let path = f.cas["ecdsa384"]! + ".pub"
        let expected = f.caKey("ecdsa384")
        #expect(try SSHPublicKey.load(configValue: path).get() == expected)
        #expect(try SSHPublicKey.load(configValue: "  \(path)\n").get() == expected)
        let text = f.material.publicLine(f.cas["ecdsa384"]!)
        #expect(try SSHPublicKey.load(configValue: text).get() == expected)
        #expect(try SSHPublicKey.load(configValue: "# our CA\n\n" + text).get() == expected)
        #expect(try SSHPublicKey.load(configValue: "cert-authority,principals=\"a\" " + text).get() == expected)
        #expect(try SSHPublicKey.load(configValue: "@cert-authority *.example.com " + text).get() == expected)
        let file = f.material.dir + "/ca-list"
        try ("# comment\n" + text + f.material.publicLine(f.otherCA)).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try SSHPublicKey.load(configValue: file).get() == expected)

        func reason(_ value: String) -> SSHKeyError.Reason? {
            if case .failure(let e) = SSHPublicKey.load(configValue: value) { return e.reason }
            return nil
        }
        #expect(reason("") == .empty)
        #expect(reason(" \n ") == .empty)
        #expect(reason("/nonexistent/ca.pub") == .unreadableFile)
        #expect(reason("bogus-ca-value") == .unreadableFile)
        #expect(reason("ssh-ed25519 AAAAnotakey") == .malformed)
        #expect(reason("ssh-ed25519 not base64 !!") == .malformed)
        #expect(reason("just some words\nmore words") == .malformed)
        #expect(reason(f.basicCert(name: "cert-as-ca")) == .malformed)
        // An unusable CA refuses every certificate with wrong_ca (startup goes on).
        let policy = CertificatePolicy.producer(caKey: try? SSHPublicKey.load(configValue: "bogus").get())
        #expect(policy.check(certLine: f.basicCert(name: "bogus-ca"), now: 0).failureReason == .wrongCA)
    }
}
