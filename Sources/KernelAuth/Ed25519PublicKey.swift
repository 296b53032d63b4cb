import COpenSSL
import KernelCrypto

/// An Ed25519 public key that verifies pure Ed25519 signatures (RFC 8032, no prehash).
public struct Ed25519PublicKey: Sendable, Equatable, CustomStringConvertible {
    /// The 32 raw key bytes.
    public let rawRepresentation: [UInt8]
    let key: LibCryptoKey

    /// From the 32 raw key bytes.
    public init(rawRepresentation: [UInt8]) throws(AuthKeyError) {
        guard rawRepresentation.count == 32 else {
            throw AuthKeyError(.badEncoding, "an Ed25519 public key is 32 bytes, got \(rawRepresentation.count)")
        }
        guard let made = LibCrypto.ed25519Key(rawRepresentation) else {
            throw AuthKeyError(.crypto, "libcrypto refused the Ed25519 public key")
        }
        key = made
        self.rawRepresentation = rawRepresentation
    }

    /// From standard base64 (padded or not) of the 32 raw key bytes (`auth.public_keys`).
    public init(base64: String) throws(AuthKeyError) {
        guard let raw = Base64.standardDecode(base64), raw.count == 32 else {
            throw AuthKeyError(.badEncoding, "expected standard base64 of a 32-byte Ed25519 public key")
        }
        try self.init(rawRepresentation: raw)
    }

    /// From an OpenSSH public key line, `ssh-ed25519 AAAA… [comment]` (`auth.public_keys_ssh`).
    public init(openSSHLine: String) throws(AuthKeyError) {
        let fields = openSSHLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard fields.count >= 2, fields[0] == "ssh-ed25519" else {
            throw AuthKeyError(.badPublicKeyLine, "expected \"ssh-ed25519 AAAA… [comment]\"")
        }
        guard let blob = Base64.standardDecode(String(fields[1])) else {
            throw AuthKeyError(.badPublicKeyLine, "the key blob is not base64")
        }
        var reader = SSHWireReader(blob)
        guard let type = reader.readString(), type == Array("ssh-ed25519".utf8),
              let raw = reader.readString(), raw.count == 32, reader.isAtEnd
        else {
            throw AuthKeyError(.badPublicKeyLine, "the key blob is not an ssh-ed25519 public key")
        }
        try self.init(rawRepresentation: raw)
    }

    /// True when `signature` (64 bytes) is a valid Ed25519 signature of `message` by this key.
    public func verify(_ message: [UInt8], signature: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        guard let context = dk_evp_md_ctx_new() else {
            OpenSSLError.clear()
            return false
        }
        defer { dk_evp_md_ctx_free(context) }
        // Ed25519 is a one-shot algorithm: no digest (NULL md), EVP_DigestVerify over the whole message.
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key.pointer) == 1 else {
            OpenSSLError.clear()
            return false
        }
        let rc = signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                withNonNullBase(msg) { EVP_DigestVerify(context, sig.baseAddress, sig.count, $0, msg.count) }
            }
        }
        // A failed verify queues an error; it is expected here and must not leak to the next caller.
        OpenSSLError.clear()
        return rc == 1
    }

    /// The standard base64 of the raw key (the `auth.public_keys` form), padded.
    public var base64: String { Base64.standardEncode(rawRepresentation) }

    public var description: String { "Ed25519PublicKey(\(base64))" }

    public static func == (a: Ed25519PublicKey, b: Ed25519PublicKey) -> Bool {
        a.rawRepresentation == b.rawRepresentation
    }
}

/// An empty Swift array may hand out a nil base address; libcrypto wants a pointer even for 0 bytes.
func withNonNullBase<R>(_ buffer: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<UInt8>) -> R) -> R {
    if let base = buffer.baseAddress { return body(base) }
    var zero: UInt8 = 0
    return withUnsafePointer(to: &zero) { body($0) }
}
