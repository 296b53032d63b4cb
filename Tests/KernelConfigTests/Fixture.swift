@testable import KernelConfig
import Testing

/// Builds config texts around the required keys, and parses them without touching the disk.
enum Fixture {
    static let dsnSecret = "pg-pass-7f3a9c"
    static let redisSecret = "redis-pass-51be02"
    /// base64 of 64 bytes: a well-formed (if useless) Ed25519 private key.
    static let privateKey = String(repeating: "QUJD", count: 21) + "QQ"

    static let required: [String: [String]] = [
        "postgres": ["dsn: \"postgres://kernel:\(dsnSecret)@db:5432/kernel\""],
        "redis": ["addr: \"127.0.0.1:6379\"", "key_prefix: \"fdc:\"", "stream: events"],
        "auth": ["issuer: iss", "audience: aud", "key_id: k1", "producer_ssh_ca: ./ca.pub"],
    ]

    /// The required keys plus `extra` lines per section (`nil` drops a section's required lines).
    static func yaml(_ extra: [String: [String]] = [:], dropping: Set<String> = []) -> String {
        var sections = required
        for key in dropping {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            sections[parts[0]] = sections[parts[0]]?.filter { !$0.hasPrefix(parts[1] + ":") }
        }
        for (section, lines) in extra {
            sections[section, default: []] += lines
        }
        return sections.keys.sorted().map { section in
            "\(section):\n" + sections[section]!.map { "  " + $0 }.joined(separator: "\n")
        }.joined(separator: "\n") + "\n"
    }

    static func parse(
        _ text: String, env: [String: String] = [:], files: [String: String] = [:]
    ) throws(ConfigError) -> KernelConfig {
        try KernelConfig.parse(yaml: text, environment: env, readFile: { path in
            guard let contents = files[path] else { throw TestFileError.missing(path) }
            return contents
        })
    }

    /// The error of a text that must fail to load (`nil`, recording a failure, when it loads).
    static func refusal(
        _ text: String, env: [String: String] = [:], files: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ConfigError? {
        #expect(throws: ConfigError.self, "expected the config to be refused", sourceLocation: sourceLocation) {
            try parse(text, env: env, files: files)
        }
    }

    /// The issues of a text that must fail to load.
    static func issues(
        _ text: String, env: [String: String] = [:], files: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [ConfigError.Issue] {
        guard let error = refusal(text, env: env, files: files, sourceLocation: sourceLocation) else { return [] }
        #expect(!error.issues.isEmpty, sourceLocation: sourceLocation)
        return error.issues
    }

    /// The single issue at `path`, recording a failure when there is not exactly one.
    static func issue(
        at path: String, in issues: [ConfigError.Issue], sourceLocation: SourceLocation = #_sourceLocation
    ) -> ConfigError.Issue? {
        let matching = issues.filter { $0.path == path }
        #expect(matching.count == 1, "issues: \(issues.map(\.description))", sourceLocation: sourceLocation)
        return matching.first
    }
}

enum TestFileError: Error, CustomStringConvertible {
    case missing(String)
    var description: String {
        switch self {
        case .missing: return "no such file"
        }
    }
}
