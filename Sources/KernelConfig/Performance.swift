extension KernelConfig {
    /// `performance`: cache lifetimes and pipeline parallelism.
    public struct Performance: Sendable, Equatable {
        /// `performance.schema_cache_ttl_seconds`: TTL of `schemas:<subject_id>` entries in Redis.
        public var schemaCacheTTLSeconds = 3600
        /// `performance.processor_threads`: threads running the ingest checks and plugins in
        /// parallel (each with its own lookup caches and connections).
        public var processorThreads = 1

        /// A performance section with every default.
        public init() {}

        static let keys = ["schema_cache_ttl_seconds", "processor_threads"]

        init(_ reader: MappingReader) {
            // Redis refuses `SET … EX 0`, so the TTL must be positive.
            schemaCacheTTLSeconds = reader.int("schema_cache_ttl_seconds", default: schemaCacheTTLSeconds, min: 1)
            processorThreads = reader.int("processor_threads", default: processorThreads, min: 1, max: 64)
        }
    }
}
