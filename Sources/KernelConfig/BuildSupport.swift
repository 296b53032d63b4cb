extension KernelConfig {
    /// What the kernel binary can do that a configuration may ask for. KernelConfig links none of
    /// the C libraries, so the caller says (`kernel` passes `RedisTLSSupport.buildSupport`); a
    /// configuration asking for something missing is refused at load, naming the key
    /// (`config_unsupported`), rather than failing at the first connection.
    public struct BuildSupport: Sendable, Equatable {
        /// Nil when TLS to Redis is available; otherwise why not and what to do, shown after
        /// `redis.tls: `.
        public var redisTLSUnavailable: String?

        /// A build that lacks what the arguments say.
        public init(redisTLSUnavailable: String? = nil) {
            self.redisTLSUnavailable = redisTLSUnavailable
        }

        /// Nothing missing: pure parsing, for tests and tools that connect to nothing.
        public static let everything = BuildSupport()
    }
}
