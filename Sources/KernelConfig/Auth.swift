import KernelCrypto
extension KernelConfig {
    /// `auth`: token issuance and verification, certificate authorities, rate limits.
    public struct Auth: Sendable, Equatable {
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
        /// `auth.private_key` (secret): base64 of the 64-byte Ed25519 issuer key. Env `KERNEL_AUTH_PRIVATE_KEY` overrides.
        public var privateKey: String?
        /// `auth.private_key_file`: OpenSSH Ed25519 private key file (alternative to `private_key`).
        public var privateKeyFile: String?
        /// `auth.private_key_passphrase_file`: file holding the passphrase of `private_key_file`.
        public var privateKeyPassphraseFile: String?
        /// `auth.producer_ssh_ca`: CA public key (authorized_keys text, or a path to it) signing producer certs.
        public var producerSSHCA: String
        /// `auth.producer_principals`: when non-empty, a producer cert must carry one of these principals.
        public var producerPrincipals: [String] = []
        /// `auth.admin_ssh_ca`: CA (text or path) signing admin certs; required when `server.tls` is set.
        public var adminSSHCA: String?
        /// `auth.admin_principal`: principal an admin cert must carry; nil = any (at least one).
        public var adminPrincipal: String?
        /// `auth.admin_allowed_subjects`: when non-empty, the TLS client cert CN or a DNS SAN must match one.
        public var adminAllowedSubjects: [String] = []
        /// `auth.skew_seconds`: clock skew tolerated on `nbf`/`exp` (0 = none).
        public var skewSeconds = 60
        /// `auth.registration_response_ttl_seconds`: EXPIRE set on every response stream write.
        public var registrationResponseTTLSeconds = 300
        /// `auth.registration_rate_limit_rpm`: token-bucket refill, requests per minute (all producer ops).
        public var registrationRateLimitRPM = 10
        /// `auth.registration_rate_limit_burst`: token-bucket capacity.
        public var registrationRateLimitBurst = 3
        /// `auth.token_ttl_seconds`: lifetime of issued tokens.
        public var tokenTTLSeconds = 3600
        /// `auth.revocation_check_seconds`: how often each ingest processor re-reads revoked tokens
        /// and disabled producers from Postgres (0 = before every chunk of entries). The fallback:
        /// changes made through a kernel take effect at once there and, by notification, within
        /// a second on the others; this bounds changes made outside the kernels (SQL) and lost
        /// notifications (docs/operations.md).
        public var revocationCheckSeconds = 1

        /// An auth section with every default and the required values.
        public init(issuer: String, audience: String, keyID: String, producerSSHCA: String) {
            self.issuer = issuer
            self.audience = audience
            self.keyID = keyID
            self.producerSSHCA = producerSSHCA
        }

        static let keys = [
            "issuer", "audience", "key_id", "public_keys", "public_keys_ssh", "private_key", "private_key_file",
            "private_key_passphrase_file", "producer_ssh_ca", "producer_principals", "admin_ssh_ca",
            "admin_principal", "admin_allowed_subjects", "skew_seconds", "registration_response_ttl_seconds",
            "registration_rate_limit_rpm", "registration_rate_limit_burst", "token_ttl_seconds",
            "revocation_check_seconds",
        ]

        init(_ reader: MappingReader, overrides: EnvironmentOverrides, origins: inout [String: String]) {
            issuer = reader.requiredString("issuer")
            audience = reader.requiredString("audience")
            keyID = reader.requiredString("key_id")
            publicKeys = reader.stringMap("public_keys") { text in
                Base64.standardDecodedCount(text) == 32
                    ? nil : "expected base64 of a 32-byte Ed25519 public key"
            }
            publicKeysSSH = reader.stringMap("public_keys_ssh") { text in
                text.hasPrefix("ssh-ed25519 ") ? nil : "expected an \"ssh-ed25519 AAAA…\" public key line"
            }
            let privateKeyPath = reader.child("private_key")
            privateKey = reader.unsetIfEmpty("private_key", secret: true)
            if let override = overrides.value("KERNEL_AUTH_PRIVATE_KEY", allowFile: false, path: privateKeyPath) {
                privateKey = override.value
                origins[privateKeyPath] = override.origin
            }
            if let key = privateKey, Base64.standardDecodedCount(key) != 64 {
                // Never echo the value: it is the issuer's signing key.
                reader.log.add(privateKeyPath, "expected base64 of a 64-byte Ed25519 private key "
                               + "(value not shown; for an OpenSSH key file use auth.private_key_file)", .invalidValue)
            }
            privateKeyFile = reader.unsetIfEmpty("private_key_file")
            privateKeyPassphraseFile = reader.unsetIfEmpty("private_key_passphrase_file")
            if privateKey != nil, privateKeyFile != nil {
                reader.log.add(reader.child("private_key_file"),
                               "set either auth.private_key (or KERNEL_AUTH_PRIVATE_KEY) or auth.private_key_file, not both",
                               .conflict)
            }
            if privateKeyPassphraseFile != nil, privateKeyFile == nil {
                reader.log.add(reader.child("private_key_passphrase_file"),
                               "only used with auth.private_key_file, which is not set", .conflict)
            }
            producerSSHCA = reader.requiredString("producer_ssh_ca")
            producerPrincipals = reader.stringList("producer_principals")
            adminSSHCA = reader.unsetIfEmpty("admin_ssh_ca")
            adminPrincipal = reader.unsetIfEmpty("admin_principal")
            adminAllowedSubjects = reader.stringList("admin_allowed_subjects")
            skewSeconds = reader.int("skew_seconds", default: skewSeconds, min: 0, max: 86_400)
            registrationResponseTTLSeconds = reader.int("registration_response_ttl_seconds",
                                                        default: registrationResponseTTLSeconds, min: 1)
            registrationRateLimitRPM = reader.int("registration_rate_limit_rpm",
                                                  default: registrationRateLimitRPM, min: 0, max: 1_000_000)
            registrationRateLimitBurst = reader.int("registration_rate_limit_burst",
                                                    default: registrationRateLimitBurst, min: 1, max: 1_000_000)
            tokenTTLSeconds = reader.int("token_ttl_seconds", default: tokenTTLSeconds, min: 1)
            revocationCheckSeconds = reader.int("revocation_check_seconds", default: revocationCheckSeconds, min: 0)
        }
    }
}
