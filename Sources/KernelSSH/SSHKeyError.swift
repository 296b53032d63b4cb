/// Why an SSH public key (or a CA configuration value) could not be used.
public struct SSHKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable, machine-readable reasons (logs and metrics).
    public enum Reason: String, Sendable {
        /// Not an authorized_keys line / wire blob of the expected shape.
        case malformed
        /// A key type this module does not handle (ssh-dss, security keys, …).
        case unsupportedKeyType = "unsupported_key_type"
        /// An RSA modulus below 2048 bits, or an invalid curve point.
        case weakKey = "weak_key"
        /// A certificate where a plain public key was expected.
        case isCertificate = "is_certificate"
        /// The configured value is empty.
        case empty
        /// The configured value looked like a file path that could not be read.
        case unreadableFile = "unreadable_file"
    }

    public let reason: Reason
    /// Human-readable detail.
    public let detail: String

    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
