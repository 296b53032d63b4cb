/// Why one event could not be normalized; the host dead-letters it as `normalize_failed` with
/// `message` as the detail.
public enum NormalizeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The payload is not acceptable (`KP_ERR_INVALID_PAYLOAD`). Name the field in the message.
    case invalidPayload(String)
    /// The event's schema version is not handled (`KP_ERR_UNSUPPORTED_VERSION`).
    case unsupportedVersion(String)
    /// A bug or resource problem inside the plugin (`KP_ERR_INTERNAL`).
    case `internal`(String)

    /// Stable reason code for logs and tests.
    public var reasonCode: String {
        switch self {
        case .invalidPayload: "invalid_payload"
        case .unsupportedVersion: "unsupported_version"
        case .internal: "internal"
        }
    }

    /// The human-readable message that crosses the C boundary.
    public var message: String {
        switch self {
        case .invalidPayload(let m), .unsupportedVersion(let m), .internal(let m): m
        }
    }

    public var description: String { "\(reasonCode): \(message)" }
}
