extension KernelConfig {
    /// `performance`: cache lifetimes.
    public struct Performance: Sendable, Equatable {
        /// `performance.schema_cache_ttl_seconds`: TTL of `schemas:<subject_id>` entries in Redis.
        public var schemaCacheTTLSeconds = 3600

        /// A performance section with every default.
        public init() {}

        static let keys = ["schema_cache_ttl_seconds"]

        init(_ reader: MappingReader) {
            // Redis refuses `SET … EX 0`, so the TTL must be positive.
            schemaCacheTTLSeconds = reader.int("schema_cache_ttl_seconds", default: schemaCacheTTLSeconds, min: 1)
        }
    }
}
