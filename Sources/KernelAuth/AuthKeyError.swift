/// Why key material could not be used. `reason` is the stable code for logs; `message` is for
/// operators and never contains key bytes.
public struct AuthKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        /// Neither `auth.private_key` (or `KERNEL_AUTH_PRIVATE_KEY`) nor `auth.private_key_file` is set.
        case noIssuerKey = "no_issuer_key"
        /// Base64 that does not decode, or decodes to the wrong length.
        case badEncoding = "bad_key_encoding"
        /// A 64-byte private key whose public half does not belong to its seed.
        case mismatchedPublicKey = "mismatched_public_key"
        /// An OpenSSH key file that is unreadable, malformed, or not a single Ed25519 key.
        case badKeyFile = "bad_key_file"
        /// An OpenSSH key file protected by a passphrase (not supported).
        case encryptedKeyFile = "encrypted_key_file"
        /// An OpenSSH public key line that is not `ssh-ed25519 <base64>`.
        case badPublicKeyLine = "bad_public_key_line"
        /// The same `kid` names two different keys.
        case conflictingKeyID = "conflicting_key_id"
        /// libcrypto refused the key.
        case crypto = "crypto_error"
    }

    public let reason: Reason
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
