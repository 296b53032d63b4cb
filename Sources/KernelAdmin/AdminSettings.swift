import KernelRedis

/// What the admin listener takes from `server.*`, `auth.admin_*`, `redis.*` and `postgres.*`:
/// plain values, filled by the kernel (`KernelConfig.adminSettings` in KernelCore), which this
/// module does not know.
public struct AdminSettings: Sendable {
    /// `server.listen`: where the listener binds; an empty host = every interface, port 0 = any free port.
    public struct Listen: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port`, with brackets around an IPv6 literal (as the configuration writes it).
        public var description: String {
            host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// `server.tls`: HTTPS with required client certificates.
    public struct TLS: Sendable, Equatable {
        /// PEM server certificate (chain).
        public var certFile: String
        /// PEM private key of the server certificate.
        public var keyFile: String
        /// PEM CA bundle that client certificates must chain to.
        public var clientCAFile: String

        public init(certFile: String, keyFile: String, clientCAFile: String) {
            self.certFile = certFile
            self.keyFile = keyFile
            self.clientCAFile = clientCAFile
        }
    }

    /// `server.listen`.
    public var listen: Listen
    /// `server.tls`; nil = plain HTTP.
    public var tls: TLS?
    /// `auth.admin_ssh_ca`: CA (text or path) signing admin certificates; nil = none.
    public var adminSSHCA: String?
    /// `auth.admin_principal`: principal an admin certificate must carry; nil = any (at least one).
    public var adminPrincipal: String?
    /// `auth.admin_allowed_subjects`: when non-empty, the TLS client certificate's CN or a DNS SAN must match one.
    public var adminAllowedSubjects: [String] = []
    /// `auth.skew_seconds`: tolerance on certificate validity.
    public var skewSeconds = 60
    /// `auth.registration_response_ttl_seconds`: EXPIRE on the response streams the admin writes.
    public var responseTTLSeconds = 300
    /// `redis.key_prefix`.
    public var keyPrefix: String
    /// How the admin's workers connect to Redis (their timeouts are set by the server).
    public var redis: RedisSettings
    /// `redis.read_timeout_ms`: the operations worker's Redis timeout (at least 1 s).
    public var redisReadTimeoutMs = 1000
    /// `postgres.dsn`, as written (the server adds `connect_timeout` when it has none).
    public var postgresDSN: String

    /// Settings with the required values and the configuration's defaults for the others.
    public init(listen: Listen, keyPrefix: String, redis: RedisSettings, postgresDSN: String) {
        self.listen = listen
        self.keyPrefix = keyPrefix
        self.redis = redis
        self.postgresDSN = postgresDSN
    }
}
