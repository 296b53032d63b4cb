/// What token issuance and verification take from `auth.*`: plain values, filled by the kernel
/// (`KernelConfig.authSettings` in KernelCore), which this module does not know. The keys are
/// loaded from them by `TokenIssuer(settings:)`, `TokenVerifier(settings:)` and
/// `Ed25519PrivateKey.issuerKey(_:)`; messages name the configuration keys the values came from.
public struct AuthSettings: Sendable, Equatable {
    /// `auth.issuer`: token `iss`.
    public var issuer: String
    /// `auth.audience`: token `aud`.
    public var audience: String
    /// `auth.key_id`: `kid` of the issuer key in token headers.
    public var keyID: String
    /// `auth.public_keys`: kid → unpadded base64 of a raw 32-byte Ed25519 public key.
    public var publicKeys: [String: String] = [:]
    /// `auth.public_keys_ssh`: kid → `ssh-ed25519 AAAA…` line.
    public var publicKeysSSH: [String: String] = [:]
    /// `auth.private_key` (secret, `KERNEL_AUTH_PRIVATE_KEY` already applied): base64 of the
    /// 64-byte Ed25519 issuer key.
    public var privateKey: String?
    /// `auth.private_key_file`: OpenSSH Ed25519 private key file (alternative to `privateKey`).
    public var privateKeyFile: String?
    /// `auth.private_key_passphrase_file`: file holding the passphrase of `privateKeyFile`.
    public var privateKeyPassphraseFile: String?
    /// `auth.skew_seconds`: clock skew tolerated on `nbf`/`exp` (0 = none).
    public var skewSeconds = 60
    /// `auth.token_ttl_seconds`: lifetime of issued tokens.
    public var tokenTTLSeconds = 3600

    /// Settings with the required values and `auth.*`'s defaults for the others.
    public init(issuer: String, audience: String, keyID: String) {
        self.issuer = issuer
        self.audience = audience
        self.keyID = keyID
    }
}
