/// The exact paths the admin listener serves (docs/admin.md, "Endpoints").
enum AdminRoute: String, Sendable {
    case metrics = "/metrics"
    case healthz = "/healthz"
    case readyz = "/readyz"
    case auth = "/auth"
    case review = "/auth/review"
    case revoke = "/auth/revoke"

    /// The method an `/auth*` route accepts (any other → 401).
    var authMethod: String? {
        switch self {
        case .auth: "GET"
        case .review, .revoke: "POST"
        default: nil
        }
    }

    /// Label value of `kernel_admin_requests_total{route}`.
    var label: String { String(rawValue.dropFirst()) }
}
