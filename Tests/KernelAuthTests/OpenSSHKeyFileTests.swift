import Foundation
@testable import KernelAuth
import Testing
import KernelCrypto

/// Keys generated at test time by the system's `ssh-keygen`.
@Suite("OpenSSH private key files")
struct OpenSSHKeyFileTests {
    /// A fresh directory; removed by the caller.
    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kernelauth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `ssh-keygen -t ed25519 -N passphrase -f path -C comment -q`.
    static func keygen(_ path: String, passphrase: String = "") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-q", "-t", "ed25519", "-N", passphrase, "-C", "issuer@test", "-f", path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    static let hasKeygen = FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh-keygen")

    @Test("an ssh-keygen key signs tokens that verify with its .pub line", .enabled(if: hasKeygen))
    func generatedKey() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("issuer").path
        try Self.keygen(path)
        let publicLine = try String(contentsOfFile: path + ".pub", encoding: .utf8)

        var issuerAuth = TestSupport.auth(privateKey: nil, keyID: "file-1")
        issuerAuth.privateKeyFile = path
        let issued = try TokenIssuer(settings: issuerAuth).issue(producer: TestSupport.producer, subject: nil, fingerprint: nil,
                                                                 ttlSeconds: 60, nowSeconds: TestSupport.now)

        // A verifier that knows only the public line (no private key) accepts it.
        var verifierAuth = TestSupport.auth(privateKey: nil, keyID: "file-1")
        verifierAuth.publicKeysSSH = ["file-1": publicLine]
        let verified = try TokenVerifier(settings: verifierAuth).verify(issued.token, nowSeconds: TestSupport.now).get()
        #expect(verified.producer == TestSupport.producer)

        // The key file and the line agree; the issuer's derived key sits under key_id as well.
        let key = try Ed25519PrivateKey(openSSHFile: path)
        #expect(try Ed25519PublicKey(openSSHLine: publicLine) == key.publicKey)
        #expect(try TokenVerifier(settings: issuerAuth).keys["file-1"] == key.publicKey)
    }

    @Test("a passphrase-protected key is refused with a clear message", .enabled(if: hasKeygen))
    func encryptedKey() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("locked").path
        try Self.keygen(path, passphrase: "correct horse")
        do {
            _ = try Ed25519PrivateKey(openSSHFile: path)
            Issue.record("an encrypted key loaded")
        } catch {
            #expect(error.reason == .encryptedKeyFile)
            #expect(error.message.contains("passphrase-protected keys are not supported"))
            #expect(error.message.contains(path))
        }
        var auth = TestSupport.auth(privateKey: nil)
        auth.privateKeyFile = path
        #expect(reason { try TokenIssuer(settings: auth) } == .encryptedKeyFile)
    }

    @Test("hostile and malformed key files are refused, never crash")
    func malformed() throws {
        let key = TestSupport.key(3)
        let good = Self.armor(Self.body(seed: TestSupport.seed(3), publicKey: key.publicKey.rawRepresentation))
        #expect(try Ed25519PrivateKey(openSSHFileText: good).publicKey == key.publicKey)

        #expect(reason { try Ed25519PrivateKey(openSSHFileText: "") } == .badKeyFile)
        #expect(reason { try Ed25519PrivateKey(openSSHFileText: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----") } == .badKeyFile)
        #expect(reason { try Ed25519PrivateKey(openSSHFileText: OpenSSHPrivateKeyFile.beginMarker + "\nAAAA\n") } == .badKeyFile)
        #expect(reason { try Ed25519PrivateKey(openSSHFileText: Self.armor(Array("openssh-key-v1".utf8) + [0])) } == .badKeyFile)
        // Private half not matching the public key.
        let other = TestSupport.key(4).publicKey.rawRepresentation
        #expect(reason { try Ed25519PrivateKey(openSSHFileText: Self.armor(Self.body(seed: TestSupport.seed(3), publicKey: other))) }
                == .mismatchedPublicKey)
        // Differing check integers.
        #expect(reason { try Ed25519PrivateKey(openSSHFileText: Self.armor(Self.body(seed: TestSupport.seed(3),
                                                                                     publicKey: key.publicKey.rawRepresentation,
                                                                                     check2: 7))) } == .badKeyFile)
        // Every truncation of a good body is refused.
        let body = Self.body(seed: TestSupport.seed(3), publicKey: key.publicKey.rawRepresentation)
        for length in 0..<body.count {
            #expect(reason { try Ed25519PrivateKey(openSSHFileText: Self.armor(Array(body[..<length]))) } != nil)
        }
        // A huge length field does not allocate or crash.
        var huge = body
        huge[15 + 3] = 0xFF
        huge[15] = 0x7F
        #expect(reason { try Ed25519PrivateKey(openSSHFileText: Self.armor(huge)) } == .badKeyFile)
    }

    /// An unencrypted openssh-key-v1 body for `seed`/`publicKey` (the key in the private section
    /// is `seed ‖ publicKey`, as ssh-keygen writes it).
    static func body(seed: [UInt8], publicKey: [UInt8], check2: UInt32 = 0x01020304) -> [UInt8] {
        let publicBlob = wire("ssh-ed25519") + wire(publicKey)
        var section: [UInt8] = [1, 2, 3, 4, UInt8(check2 >> 24), UInt8(check2 >> 16 & 0xFF), UInt8(check2 >> 8 & 0xFF),
                                UInt8(check2 & 0xFF)]
        section += wire("ssh-ed25519") + wire(publicKey) + wire(seed + publicKey) + wire("comment")
        var pad: UInt8 = 1
        while section.count % 8 != 0 {
            section.append(pad)
            pad += 1
        }
        return Array("openssh-key-v1".utf8) + [0] + wire("none") + wire("none") + wire("") + [0, 0, 0, 1]
            + wire(publicBlob) + wire(section)
    }

    static func armor(_ body: [UInt8]) -> String {
        let text = Base64.standardEncode(body)
        var lines: [String] = []
        var rest = text[...]
        while !rest.isEmpty {
            lines.append(String(rest.prefix(70)))
            rest = rest.dropFirst(70)
        }
        return OpenSSHPrivateKeyFile.beginMarker + "\n" + lines.joined(separator: "\n") + "\n" + OpenSSHPrivateKeyFile.endMarker + "\n"
    }
}
