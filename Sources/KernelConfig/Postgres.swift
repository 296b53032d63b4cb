extension KernelConfig {
    /// `postgres`: the store, its migrations, and the batcher that feeds it.
    public struct Postgres: Sendable, Equatable {
        /// `postgres.dsn` (secret): libpq connection string. Env `KERNEL_PG_DSN` or `KERNEL_PG_DSN_FILE` overrides.
        public var dsn: String
        /// `postgres.max_conns`, deprecated: the kernel keeps no pool (each thread that talks to
        /// Postgres owns its connection, docs/operations.md "Connections"). Still accepted so an
        /// older config starts; the value is ignored and start-up warns. Nil when not set.
        public var deprecatedMaxConns: Int?
        /// `postgres.apply_migrations`: run `migrations_dir/*.sql` at startup.
        public var applyMigrations = true
        /// `postgres.migrations_dir`: directory of migration files, applied in filename order.
        public var migrationsDir = "migrations"
        /// `postgres.queue_size`: accepted events buffered ahead of the batcher; full → the reader waits.
        public var queueSize = 1024
        /// `postgres.batch_size`: flush when this many events are buffered.
        public var batchSize = 1000
        /// `postgres.max_write_events`: a writer that finds several batches queued writes them in
        /// one transaction, up to this many events (a single batch is never split).
        public var maxWriteEvents = 3000
        /// `postgres.batch_max_wait_ms`: flush at least this often (0 = flush every event at once).
        public var batchMaxWaitMs = 200
        /// `postgres.batch_linger_ms`: when the input idles, how long a batch may wait for more
        /// events before it is written (0 = at once). Fewer, fuller transactions at low rates for a
        /// bounded added latency (docs/operations.md, "Throughput, latency and memory: the batching keys").
        public var batchLingerMs = 5
        /// `postgres.write_connections`: parallel COPY writers.
        public var writeConnections = 2
        /// `postgres.circuit_breaker_threshold`: consecutive failures that open the breaker.
        public var circuitBreakerThreshold = 5
        /// `postgres.circuit_breaker_timeout_seconds`: time since the last failure before a retry.
        public var circuitBreakerTimeoutSeconds = 30
        /// `postgres.connect_timeout_ms`: per connection attempt.
        public var connectTimeoutMs = 5000
        /// `postgres.statement_timeout_ms`: server-side limit per statement (0 = none).
        public var statementTimeoutMs = 30000

        /// The DSN with `connect_timeout_ms` and, unless `forMigrations`, `statement_timeout_ms`
        /// applied as libpq parameters (`connect_timeout` in whole seconds, at least 2 as libpq
        /// reads it; `options=-c statement_timeout=…`). A parameter the DSN sets itself wins.
        /// Migrations run without the statement limit: carrying data over may take minutes.
        public func connectionDSN(forMigrations: Bool = false) -> String {
            var params: [(String, String)] = []
            if !dsn.contains("connect_timeout") {
                params.append(("connect_timeout", String(max(2, (connectTimeoutMs + 999) / 1000))))
            }
            if !forMigrations, statementTimeoutMs > 0, !dsn.contains("options") {
                params.append(("options", "-c statement_timeout=\(statementTimeoutMs)"))
            }
            guard !params.isEmpty else { return dsn }
            if dsn.hasPrefix("postgres://") || dsn.hasPrefix("postgresql://") {
                let encoded = params.map { key, value in
                    key + "=" + value.map { $0 == " " ? "%20" : $0 == "=" ? "%3D" : String($0) }.joined()
                }
                return dsn + (dsn.contains("?") ? "&" : "?") + encoded.joined(separator: "&")
            }
            return dsn + params.map { " \($0.0)='\($0.1)'" }.joined()
        }

        /// A postgres section with every default and the given DSN.
        public init(dsn: String) {
            self.dsn = dsn
        }

        static let keys = [
            "dsn", "apply_migrations", "migrations_dir", "queue_size", "batch_size",
            "batch_max_wait_ms", "batch_linger_ms", "max_write_events", "write_connections", "circuit_breaker_threshold",
            "circuit_breaker_timeout_seconds", "connect_timeout_ms", "statement_timeout_ms",
        ]

        /// Accepted so that older configs start, ignored, warned about at start-up.
        static let deprecatedKeys = ["max_conns"]

        init(_ reader: MappingReader, overrides: EnvironmentOverrides, origins: inout [String: String]) {
            let path = reader.child("dsn")
            var dsn = reader.unsetIfEmpty("dsn", secret: true)
            if let override = overrides.value("KERNEL_PG_DSN", allowFile: true, path: path) {
                dsn = override.value
                origins[path] = override.origin
            }
            if dsn == nil, !reader.holdsCollection("dsn") {
                reader.log.add(path, "required (or set KERNEL_PG_DSN / KERNEL_PG_DSN_FILE)", .missingKey)
            }
            self.dsn = dsn ?? ""
            deprecatedMaxConns = reader.optionalInt("max_conns", min: 1, max: 1000)
            applyMigrations = reader.bool("apply_migrations", default: applyMigrations)
            migrationsDir = reader.string("migrations_dir", default: migrationsDir)
            queueSize = reader.int("queue_size", default: queueSize, min: 1)
            batchSize = reader.int("batch_size", default: batchSize, min: 1)
            batchMaxWaitMs = reader.int("batch_max_wait_ms", default: batchMaxWaitMs, min: 0)
            batchLingerMs = reader.int("batch_linger_ms", default: batchLingerMs, min: 0, max: 1000)
            maxWriteEvents = reader.int("max_write_events", default: maxWriteEvents, min: 1)
            writeConnections = reader.int("write_connections", default: writeConnections, min: 1, max: 1000)
            circuitBreakerThreshold = reader.int("circuit_breaker_threshold", default: circuitBreakerThreshold, min: 1)
            circuitBreakerTimeoutSeconds = reader.int("circuit_breaker_timeout_seconds",
                                                      default: circuitBreakerTimeoutSeconds, min: 0)
            connectTimeoutMs = reader.int("connect_timeout_ms", default: connectTimeoutMs, min: 1)
            statementTimeoutMs = reader.int("statement_timeout_ms", default: statementTimeoutMs, min: 0)
        }
    }
}
