extension KernelConfig {
    /// `logging`: JSON lines, written asynchronously through a bounded buffer.
    public struct Logging: Sendable, Equatable {
        /// Minimum level written.
        public enum Level: String, Sendable, Equatable, CaseIterable {
            case debug, info, warn, error
        }

        /// Where log lines go.
        public enum Output: Sendable, Equatable {
            case stdout
            case stderr
            /// Appended to this file.
            case file(String)
        }

        /// `logging.level`: `debug`, `info`, `warn` or `error`.
        public var level = Level.info
        /// `logging.buffer`: lines queued before new ones are dropped (and counted).
        public var buffer = 4096
        /// `logging.output`: `stdout`, `stderr`, or a file path.
        public var output = Output.stdout

        /// A logging section with every default.
        public init() {}

        static let keys = ["level", "buffer", "output"]

        init(_ reader: MappingReader) {
            let name = reader.choice("level", default: level.rawValue, allowed: Level.allCases.map(\.rawValue))
            level = Level(rawValue: name) ?? .info
            buffer = reader.int("buffer", default: buffer, min: 1, max: 10_000_000)
            switch reader.optionalString("output") {
            case nil, "stdout": output = .stdout
            case "stderr": output = .stderr
            case let path?: output = .file(path)
            }
        }
    }
}
