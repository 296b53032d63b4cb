import CHiredis

/// Whether this build speaks TLS to Redis: only with hiredis >= 1.0 and its hiredis_ssl library,
/// built with `DK_HIREDIS_SSL=1` (docs/infrastructure.md, "Redis over TLS"). Debian 12's hiredis
/// is 0.14, which has no TLS.
public enum RedisTLSSupport {
    /// The hiredis version the kernel was compiled against, e.g. `0.14.1`.
    public static let hiredisVersion = "\(HIREDIS_MAJOR).\(HIREDIS_MINOR).\(HIREDIS_PATCH)"

    /// True when `redis.tls` can be honoured.
    public static let available = DK_HIREDIS_HAS_TLS != 0

    /// Why `redis.tls` cannot be honoured, and what to do; nil when it can.
    public static var unavailableReason: String? {
        if available { return nil }
        let why = HIREDIS_MAJOR < 1
            ? "this kernel was built against hiredis \(hiredisVersion), which has no TLS"
            : "this kernel was built against hiredis \(hiredisVersion) without hiredis_ssl (DK_HIREDIS_SSL=1 was not set)"
        return why + "; rebuild with hiredis >= 1.0 and DK_HIREDIS_SSL=1 (docs/infrastructure.md, \"Redis over TLS\"), "
            + "or remove redis.tls and reach Redis over a private network or a local TLS tunnel"
    }
}
