/// Everything wrong with a configuration, collected in one pass so an operator fixes the file once.
///
/// Messages name the key path and what was expected. They never contain the value of a secret
/// (`postgres.dsn`, `redis.password`, `auth.private_key`), whatever went wrong with it.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One problem at one key path.
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// Dotted key path, e.g. `redis.read_count`; empty for problems with the document as a whole.
        public var path: String
        /// What is wrong and what was expected.
        public var message: String
        /// Machine-readable category, for logs and tests.
        public var reason: Reason

        /// Creates an issue.
        public init(path: String, message: String, reason: Reason) {
            self.path = path
            self.message = message
            self.reason = reason
        }

        /// `path: message`, or just the message when there is no path.
        public var description: String {
            path.isEmpty ? message : "\(path): \(message)"
        }
    }

    /// Reason codes, one per kind of problem.
    public enum Reason: String, Sendable, Equatable {
        /// The file could not be read.
        case unreadable = "config_unreadable"
        /// The text is not valid YAML, is too large or too deeply nested, or uses anchors, aliases
        /// or merge keys (which the kernel configuration refuses).
        case syntax = "config_syntax"
        /// A key the kernel does not know.
        case unknownKey = "config_unknown_key"
        /// A required key is absent.
        case missingKey = "config_missing_key"
        /// A value of the wrong kind (mapping where a scalar belongs, …).
        case wrongType = "config_wrong_type"
        /// A value of the right kind but outside what is allowed.
        case invalidValue = "config_invalid_value"
        /// Keys that are fine alone but contradict each other.
        case conflict = "config_conflict"
        /// An environment override could not be used (e.g. its `_FILE` could not be read).
        case environment = "config_environment"
        /// A feature this build of the kernel lacks (e.g. `redis.tls` with a hiredis without TLS).
        case unsupported = "config_unsupported"
    }

    /// All problems found, in the order they were found.
    public var issues: [Issue]

    /// Creates an error from a list of issues.
    public init(issues: [Issue]) {
        self.issues = issues
    }

    /// One issue per line.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
