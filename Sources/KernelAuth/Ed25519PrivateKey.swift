import COpenSSL
import KernelCrypto

/// An Ed25519 signing key (the token issuer key). Its description shows only the public key.
public struct Ed25519PrivateKey: Sendable, CustomStringConvertible {
    let key: LibCryptoKey
    /// The matching public key (derived from the seed).
    public let publicKey: Ed25519PublicKey

    /// From the 32-byte seed.
    public init(seed: [UInt8]) throws(AuthKeyError) {
        guard seed.count == 32 else {
            throw AuthKeyError(.badEncoding, "an Ed25519 seed is 32 bytes, got \(seed.count)")
        }
        guard let made = LibCrypto.ed25519PrivateKey(seed: seed) else {
            throw AuthKeyError(.crypto, "libcrypto refused the Ed25519 seed: \(OpenSSLError.drain())")
        }
        guard let raw = LibCrypto.ed25519RawPublicKey(made) else {
            throw AuthKeyError(.crypto, "cannot read the Ed25519 public key: \(OpenSSLError.drain())")
        }
        key = made
        publicKey = try Ed25519PublicKey(rawRepresentation: raw)
    }

    /// From the 64-byte `seed ‖ public key` form (Go's `ed25519.PrivateKey`, libsodium's secret key).
    /// The public half must be the one the seed derives: a mismatched pair would issue tokens
    /// that the configured public key cannot verify.
    public init(seedAndPublicKey bytes: [UInt8]) throws(AuthKeyError) {
        guard bytes.count == 64 else {
            throw AuthKeyError(.badEncoding, "an Ed25519 private key is 64 bytes (seed + public key), got \(bytes.count)")
        }
        try self.init(seed: Array(bytes[..<32]))
        guard publicKey.rawRepresentation == Array(bytes[32...]) else {
            throw AuthKeyError(.mismatchedPublicKey, "the public half of the 64-byte key does not match its seed")
        }
    }

    /// From standard base64 (padded or not) of the 64-byte form (`auth.private_key`,
    /// `KERNEL_AUTH_PRIVATE_KEY`). The error never contains the value.
    public init(base64: String) throws(AuthKeyError) {
        guard var bytes = Base64.standardDecode(base64.trimmingASCIIWhitespace()) else {
            throw AuthKeyError(.badEncoding, "the private key is not standard base64 (value not shown)")
        }
        defer { for i in bytes.indices { bytes[i] = 0 } }
        try self.init(seedAndPublicKey: bytes)
    }

    /// From the text of an unencrypted OpenSSH Ed25519 private key file.
    public init(openSSHFileText text: String) throws(AuthKeyError) {
        var parsed = try OpenSSHPrivateKeyFile.parse(text)
        defer { for i in parsed.seed.indices { parsed.seed[i] = 0 } }
        try self.init(seed: parsed.seed)
        guard publicKey.rawRepresentation == parsed.publicKey else {
            throw AuthKeyError(.mismatchedPublicKey, "the key file's public key does not match its private key")
        }
    }

    /// From an OpenSSH Ed25519 private key file on disk (`auth.private_key_file`).
    public init(openSSHFile path: String) throws(AuthKeyError) {
        let text = try KeyFileText.read(path)
        do {
            try self.init(openSSHFileText: text)
        } catch {
            throw AuthKeyError(error.reason, "\(path): \(error.message)")
        }
    }

    /// The 64-byte pure Ed25519 signature of `message`.
    ///
    /// Signing with a key libcrypto accepted fails only when memory runs out; that is treated as
    /// fatal rather than threaded through every caller as an error that cannot otherwise happen.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        guard let context = dk_evp_md_ctx_new() else { fatalError("EVP_MD_CTX_new failed: \(OpenSSLError.drain())") }
        defer { dk_evp_md_ctx_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, key.pointer) == 1 else {
            fatalError("EVP_DigestSignInit(Ed25519) failed: \(OpenSSLError.drain())")
        }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = signature.count
        let rc = signature.withUnsafeMutableBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                withNonNullBase(msg) { EVP_DigestSign(context, sig.baseAddress, &length, $0, msg.count) }
            }
        }
        guard rc == 1, length == 64 else { fatalError("EVP_DigestSign(Ed25519) failed: \(OpenSSLError.drain())") }
        return signature
    }

    /// Verifies with the public half (convenience).
    public func verify(_ message: [UInt8], signature: [UInt8]) -> Bool {
        publicKey.verify(message, signature: signature)
    }

    public var description: String { "Ed25519PrivateKey(public: \(publicKey.base64))" }

    /// The issuer key configured in `auth`: `private_key` (or `KERNEL_AUTH_PRIVATE_KEY`, already
    /// applied by the configuration), else `private_key_file`; nil when neither is set.
    public static func issuerKey(_ auth: AuthSettings) throws(AuthKeyError) -> Ed25519PrivateKey? {
        if let text = auth.privateKey {
            do {
                return try Ed25519PrivateKey(base64: text)
            } catch {
                throw AuthKeyError(error.reason, "auth.private_key: \(error.message)")
            }
        }
        if let path = auth.privateKeyFile {
            do {
                return try Ed25519PrivateKey(openSSHFile: path)
            } catch {
                let note = error.reason == .encryptedKeyFile && auth.privateKeyPassphraseFile != nil
                    ? " (auth.private_key_passphrase_file cannot help until encrypted keys are supported)" : ""
                throw AuthKeyError(error.reason, "auth.private_key_file: \(error.message)\(note)")
            }
        }
        return nil
    }
}

extension String {
    /// Without leading and trailing ASCII whitespace (a trailing newline from a secret file).
    func trimmingASCIIWhitespace() -> String {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\r\n" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\r\n" { s.removeLast() }
        return String(s)
    }
}
