@testable import KernelAuth
import Testing
import KernelCrypto

@Suite("Ed25519 keys")
struct KeyTests {
    /// RFC 8032 §7.1, test 1 (empty message).
    @Test("signing matches the RFC 8032 test vector")
    func rfc8032() throws {
        let seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        let key = try Ed25519PrivateKey(seed: seed)
        #expect(key.publicKey.rawRepresentation == hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let signature = key.sign([])
        #expect(signature == hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"))
        #expect(key.publicKey.verify([], signature: signature))
        #expect(!key.publicKey.verify([0], signature: signature))
        #expect(!key.publicKey.verify([], signature: Array(signature.dropLast())))
    }

    @Test("the 64-byte private key loads from padded or unpadded base64, and its halves must match")
    func privateKeyBase64() throws {
        let unpadded = try Ed25519PrivateKey(base64: TestSupport.privateKeyBase64())
        let padded = try Ed25519PrivateKey(base64: TestSupport.privateKeyBase64(padded: true) + "\n")
        #expect(unpadded.publicKey == padded.publicKey)
        #expect(unpadded.publicKey == TestSupport.key().publicKey)

        let mismatched = Base64.standardEncode(TestSupport.seed(1) + TestSupport.key(2).publicKey.rawRepresentation)
        #expect(reason { try Ed25519PrivateKey(base64: mismatched) } == .mismatchedPublicKey)
        #expect(reason { try Ed25519PrivateKey(base64: "not base64!") } == .badEncoding)
        #expect(reason { try Ed25519PrivateKey(base64: Base64.standardEncode(TestSupport.seed(1))) } == .badEncoding)
        // The description shows the public key only.
        #expect(!"\(unpadded)".contains(TestSupport.privateKeyBase64()))
    }

    @Test("public keys load from raw base64 and from ssh-ed25519 lines")
    func publicKeys() throws {
        let key = TestSupport.key(5).publicKey
        #expect(try Ed25519PublicKey(base64: key.base64) == key)
        #expect(try Ed25519PublicKey(base64: String(key.base64.dropLast())) == key)
        let line = sshLine(key.rawRepresentation, comment: "issuer@test")
        #expect(try Ed25519PublicKey(openSSHLine: line) == key)
        #expect(try Ed25519PublicKey(openSSHLine: line + "\n") == key)

        #expect(reason { try Ed25519PublicKey(base64: Base64.standardEncode([1, 2, 3])) } == .badEncoding)
        #expect(reason { try Ed25519PublicKey(openSSHLine: "ssh-rsa AAAA") } == .badPublicKeyLine)
        #expect(reason { try Ed25519PublicKey(openSSHLine: "ssh-ed25519") } == .badPublicKeyLine)
        #expect(reason { try Ed25519PublicKey(openSSHLine: "ssh-ed25519 !!!") } == .badPublicKeyLine)
        // A blob whose inner type is not ed25519, and one with trailing bytes.
        let wrongType = Base64.standardEncode(wire("ssh-rsa") + wire(key.rawRepresentation))
        #expect(reason { try Ed25519PublicKey(openSSHLine: "ssh-ed25519 " + wrongType) } == .badPublicKeyLine)
        let trailing = Base64.standardEncode(wire("ssh-ed25519") + wire(key.rawRepresentation) + [0])
        #expect(reason { try Ed25519PublicKey(openSSHLine: "ssh-ed25519 " + trailing) } == .badPublicKeyLine)
    }

    @Test("verification keys: public_keys, public_keys_ssh and the issuer's own key under key_id")
    func verificationKeys() throws {
        var auth = TestSupport.auth()
        auth.publicKeys = ["raw": TestSupport.key(5).publicKey.base64, "k1": TestSupport.key(1).publicKey.base64]
        auth.publicKeysSSH = ["ssh": sshLine(TestSupport.key(6).publicKey.rawRepresentation, comment: "c")]
        let verifier = try TokenVerifier(settings: auth)
        #expect(verifier.keys.byKeyID.keys.sorted() == ["k1", "raw", "ssh"])

        // Tokens signed by each key verify under its kid.
        for (kid, seed) in [("raw", UInt8(5)), ("ssh", 6), ("k1", 1)] {
            let token = TestSupport.craft(header: #"{"alg":"EdDSA","kid":"\#(kid)"}"#, claims: TestSupport.claims(),
                                          key: TestSupport.key(seed))
            #expect(TestSupport.code(token, verifier: verifier) == nil, "\(kid)")
        }
        // The ssh key does not verify under another kid.
        let crossed = TestSupport.craft(header: #"{"alg":"EdDSA","kid":"raw"}"#, claims: TestSupport.claims(), key: TestSupport.key(6))
        #expect(TestSupport.code(crossed, verifier: verifier) == "bad_signature")

        // Without an issuer key only the listed keys verify.
        let noIssuer = try TokenVerifier(settings: TestSupport.auth(privateKey: nil))
        #expect(noIssuer.keys.byKeyID.isEmpty)
        #expect(TestSupport.code(TestSupport.craft(claims: TestSupport.claims()), verifier: noIssuer) == "unknown_kid")
    }

    @Test("one kid naming two different keys is refused (strict) or dropped (tolerant)")
    func conflictingKid() {
        var auth = TestSupport.auth()
        auth.publicKeys = ["k1": TestSupport.key(9).publicKey.base64, "ok": TestSupport.key(5).publicKey.base64]
        #expect(reason { try TokenVerifier(settings: auth) } == .conflictingKeyID)
        let (verifier, problems) = TokenVerifier.tolerant(settings: auth)
        #expect(problems.map(\.reason) == [.conflictingKeyID])
        #expect(verifier.keys.byKeyID.keys.sorted() == ["ok"])
        #expect(TestSupport.code(TestSupport.craft(claims: TestSupport.claims()), verifier: verifier) == "unknown_kid")
    }

    @Test("a broken issuer key does not stop verification with the other keys (tolerant)")
    func brokenIssuerKey() {
        var auth = TestSupport.auth(privateKey: nil)
        auth.privateKeyFile = "/nonexistent/key"
        auth.publicKeys = ["ok": TestSupport.key(5).publicKey.base64]
        let (verifier, problems) = TokenVerifier.tolerant(settings: auth)
        #expect(problems.map(\.reason) == [.badKeyFile])
        #expect(verifier.issuerKeyProblem?.reason == .badKeyFile)
        #expect(verifier.keys.byKeyID.keys.sorted() == ["ok"])
        #expect(reason { try TokenIssuer(settings: auth) } == .badKeyFile)
    }

    // MARK: helpers

    func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(text.utf8)[...]
        while chars.count >= 2 {
            out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
            chars = chars.dropFirst(2)
        }
        return out
    }
}

func wire(_ text: String) -> [UInt8] { wire(Array(text.utf8)) }

func wire(_ bytes: [UInt8]) -> [UInt8] {
    let n = UInt32(bytes.count)
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + bytes
}

func sshLine(_ raw: [UInt8], comment: String) -> String {
    "ssh-ed25519 " + Base64.standardEncode(wire("ssh-ed25519") + wire(raw)) + " " + comment
}

/// The reason of the `AuthKeyError` thrown by `body`, nil when it does not throw.
func reason<T>(_ body: () throws -> T) -> AuthKeyError.Reason? {
    do {
        _ = try body()
        return nil
    } catch let error as AuthKeyError {
        return error.reason
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}
