/// Why a certificate was refused. `reason.rawValue` is the stable code for logs and metrics; the
/// key id (when the certificate got far enough to have one) goes into every refusal's log line.
public struct CertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, CaseIterable {
        /// Not an authorized_keys line, or a type that is neither a key nor a certificate.
        case notACertificate = "not_a_certificate"
        /// A plain public key where a certificate is required.
        case plainKey = "plain_key"
        /// A certificate type whose blob does not parse (truncated, trailing bytes, bad base64,
        /// line type ≠ blob type, …).
        case malformed
        /// No CA configured, or the certificate was signed by another key.
        case wrongCA = "wrong_ca"
        /// The CA signature does not verify.
        case badCASignature = "bad_ca_signature"
        /// Signed with `ssh-rsa` (SHA-1).
        case weakSignatureAlgorithm = "weak_signature_algorithm"
        case notYetValid = "not_yet_valid"
        case expired
        /// A host certificate where a user certificate is required (or the reverse).
        case wrongCertType = "wrong_cert_type"
        case unknownCriticalOption = "unknown_critical_option"
        case principalMismatch = "principal_mismatch"
        /// A certificate (or certified key) type this policy does not accept.
        case unsupportedKeyType = "unsupported_key_type"
    }

    public let reason: Reason
    /// The certificate's key id, when it was parsed far enough.
    public let keyID: String?
    /// Human-readable detail (untrusted parts quoted and truncated).
    public let detail: String

    public init(_ reason: Reason, _ detail: String, keyID: String? = nil) {
        self.reason = reason
        self.detail = detail
        self.keyID = keyID
    }

    /// `"<reason> (key id "<id>"): <detail>"`.
    public var description: String {
        if let keyID { return "\(reason.rawValue) (key id \(printable(keyID))): \(detail)" }
        return "\(reason.rawValue): \(detail)"
    }
}
