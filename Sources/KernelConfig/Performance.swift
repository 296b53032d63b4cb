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

        /// `performance.binding_cache_seconds`: how long a processor trusts a producer↔subject
        /// binding it looked up (an unbinding takes effect within this; an outage longer than it
        /// is served from the last answer).
        public var bindingCacheSeconds = 60

        static let keys = ["schema_cache_ttl_seconds", "processor_threads", "binding_cache_seconds"]

        init(_ reader: MappingReader) {
            // Redis refuses `SET … EX 0`, so the TTL must be positive.
            schemaCacheTTLSeconds = reader.int("schema_cache_ttl_seconds", default: schemaCacheTTLSeconds, min: 1)
            processorThreads = reader.int("processor_threads", default: processorThreads, min: 1, max: 64)
            bindingCacheSeconds = reader.int("binding_cache_seconds", default: bindingCacheSeconds, min: 1, max: 86_400)
        }
    }
}
