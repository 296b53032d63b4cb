/// How to open a Redis connection: shared by the ingest pipeline, the control-stream consumers
/// and the tools. Plain values: the kernel fills them from `redis.*` (`KernelConfig.redisSettings`
/// in KernelCore), which this module does not know.
public struct RedisSettings: Sendable {
    /// TLS to Redis (`redis.tls`): what the server's certificate must satisfy, and the client's own.
    public struct TLS: Sendable, Equatable {
        /// What the server's certificate is checked for (`redis.tls.verify`).
        public enum Verify: String, Sendable, Equatable, CaseIterable {
            /// The chain leads to a trusted CA and the certificate names the server (`server_name`,
            /// or the host of the address connected to), as libpq's `sslmode=verify-full`.
            case full
            /// The chain leads to a trusted CA; any name is accepted (`sslmode=verify-ca`): for
            /// servers reached by addresses their certificates do not carry.
            case ca
        }

        /// PEM bundle of the CAs the server's certificate must chain to; nil = the system's trust store.
        public var caFile: String?
        /// PEM client certificate (chain), for a Redis that requires one; with `keyFile`.
        public var certFile: String?
        /// PEM private key of `certFile`.
        public var keyFile: String?
        /// `full` (default) or `ca`.
        public var verify: Verify = .full
        /// The name the certificate must carry and the SNI sent; nil = the host of each address
        /// connected to (the seed and every cluster node).
        public var serverName: String?

        /// TLS with the system's CAs, full verification and no client certificate.
        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, verify: Verify = .full,
                    serverName: String? = nil) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.verify = verify
            self.serverName = serverName
        }
    }

    public var endpoint: RedisConnection.Endpoint
    public var username: String?
    public var password: String?
    public var db: Int
    public var dialTimeoutMs: Int
    public var commandTimeoutMs: Int
    /// `redis.cluster`: `endpoint` is a seed node of a Redis Cluster.
    public var cluster: Bool
    /// `redis.tls`: TLS on every connection (cluster nodes included); nil = plain TCP.
    public var tls: TLS?

    /// Settings given field by field (the kernel's from `KernelConfig.redisSettings`; tools and tests
    /// name what they need).
    public init(endpoint: RedisConnection.Endpoint, username: String? = nil, password: String? = nil, db: Int = 0,
                dialTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000, cluster: Bool = false,
                tls: TLS? = nil) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.db = db
        self.dialTimeoutMs = dialTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        self.cluster = cluster
        self.tls = tls
    }

    /// A client for the configured deployment: one connection, or a cluster client when
    /// `redis.cluster` is set.
    public func connectClient() throws(RedisError) -> any RedisClient {
        if cluster { return try RedisClusterClient(settings: self) }
        return try connect()
    }

    /// One connection to `endpoint` (standalone Redis, or one node of a cluster).
    public func connect() throws(RedisError) -> RedisConnection {
        let c = try RedisConnection(endpoint: endpoint, timeoutMs: dialTimeoutMs, username: username, password: password, db: db,
                                    tls: tls)
        c.setTimeout(ms: commandTimeoutMs)
        return c
    }
}
