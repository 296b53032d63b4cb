/// A certificate that passed every check of a `CertificatePolicy`.
public struct CheckedCertificate: Sendable {
    /// The parsed certificate.
    public let certificate: SSHCertificate
    /// The line's comment field (informational only).
    public let comment: String

    /// The key the certificate vouches for: it verifies the request signature.
    public var certifiedKey: SSHPublicKey { certificate.certifiedKey }
    public var keyID: String { certificate.keyID }
    public var principals: [String] { certificate.principals }
    public var serial: UInt64 { certificate.serial }
    /// The fingerprint of the certified key (docs/protocol.md, "Fingerprints"; stable across renewals of the certificate).
    public var fingerprint: String { certificate.certifiedKey.fingerprint }
    /// Critical options the policy tolerated (e.g. `source-address` for admins). Enforcing them
    /// against the request (the peer address) is the caller's job.
    public var criticalOptions: [SSHCertificate.Option] { certificate.criticalOptions }
}
