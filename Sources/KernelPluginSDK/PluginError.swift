/// Why `KernelNormalizer.init(config:host:)` failed; the host refuses the plugin with `message`.
public enum PluginError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration is unacceptable (`KP_ERR_CONFIG`).
    case config(String)
    /// Anything else (`KP_ERR_INTERNAL`).
    case `internal`(String)

    /// Stable reason code for logs.
    public var reasonCode: String {
        switch self {
        case .config: "config"
        case .internal: "internal"
        }
    }

    /// The human-readable message that crosses the C boundary.
    public var message: String {
        switch self {
        case .config(let m), .internal(let m): m
        }
    }

    public var description: String { "\(reasonCode): \(message)" }
}
