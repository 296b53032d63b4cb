import Yams

/// The kernel's configuration, loaded from YAML (README.md, "Configuration"; every key in
/// config/kernel.example.yaml).
///
/// Rules: the file holds only keys that do something, and an unknown key is an error naming its
/// path; an absent key takes its default; an explicit value, 0 included, is honoured; every
/// problem is collected and reported together in one `ConfigError`. Secrets (`postgres.dsn`,
/// `redis.password`, `auth.private_key`) may come from the environment and never appear in
/// error messages or in `redactedDescription`.
public struct KernelConfig: Sendable, Equatable {
    /// Signature of the file reader used for `*_FILE` environment variables (injectable for tests).
    public typealias FileReader = (String) throws -> String

    /// Largest config text accepted: real configs are a few KiB.
    public static let maxTextBytes = 1 << 20

    public var server: Server
    public var postgres: Postgres
    public var redis: Redis
    public var logging: Logging
    public var auth: Auth
    public var performance: Performance
    public var spill: Spill
    public var plugins: Plugins
    public var retention: Retention
    /// Key path → where its value came from, for values not taken from the YAML
    /// (e.g. `"postgres.dsn": "env KERNEL_PG_DSN"`).
    public var origins: [String: String] = [:]

    /// A config assembled in code (tests, tools); `parse` and `load` are the usual way in.
    public init(server: Server = Server(), postgres: Postgres, redis: Redis, logging: Logging = Logging(),
                auth: Auth, performance: Performance = Performance(), spill: Spill = Spill(),
                plugins: Plugins = Plugins(), retention: Retention = Retention()) {
        self.server = server
        self.postgres = postgres
        self.redis = redis
        self.logging = logging
        self.auth = auth
        self.performance = performance
        self.spill = spill
        self.plugins = plugins
        self.retention = retention
    }

    /// The JSON object text passed to plugin `name`'s `init`: its `plugins.config.<name>`
    /// mapping, or `"{}"` when there is none.
    public func pluginConfigJSON(for name: String) -> String {
        plugins.configJSON(for: name)
    }

    static let sections = ["server", "postgres", "redis", "logging", "auth", "performance", "spill", "plugins", "retention"]

    /// Reads and parses the file at `path`. Environment overrides come from `environment`;
    /// `*_FILE` variables are read from disk.
    public static func load(
        path: String,
        environment: [String: String] = ProcessEnvironment.current(),
        support: BuildSupport = .everything
    ) throws(ConfigError) -> KernelConfig {
        let text: String
        do {
            text = try FileText.read(path, limit: maxTextBytes)
        } catch {
            throw ConfigError(issues: [.init(path: "", message: "cannot read config file \(ValueDisplay.quote(path)): \(error)",
                                             reason: .unreadable)])
        }
        return try parse(yaml: text, environment: environment, readFile: readSecretFile, support: support)
    }

    /// Parses YAML text. `environment` supplies overrides; `readFile` reads the files named by
    /// `*_FILE` variables. Pure: touches nothing else.
    public static func parse(
        yaml: String,
        environment: [String: String] = [:],
        readFile: FileReader = KernelConfig.readSecretFile,
        support: BuildSupport = .everything
    ) throws(ConfigError) -> KernelConfig {
        try withoutActuallyEscaping(readFile) { (readFile) throws(ConfigError) -> KernelConfig in
            try parse(yaml: yaml, support: support, overrides: { log in
                EnvironmentOverrides(environment: environment, readFile: readFile, log: log)
            })
        }
    }

    /// Reads a file named by a `*_FILE` variable from disk (at most 64 KiB). The default `FileReader`.
    public static func readSecretFile(_ path: String) throws -> String {
        try FileText.read(path, limit: 1 << 16)
    }

    private static func parse(
        yaml: String, support: BuildSupport, overrides makeOverrides: (IssueLog) -> EnvironmentOverrides
    ) throws(ConfigError) -> KernelConfig {
        let log = IssueLog()
        let root = compose(yaml, log: log)
        guard log.isEmpty else { throw ConfigError(issues: log.issues) }

        let top = MappingReader(root, path: "", known: sections, log: log)
        if let root, !MappingReader.isNull(root), root.mapping == nil {
            // MappingReader said "expected a mapping"; reporting every required key as well would bury that.
            throw ConfigError(issues: log.issues)
        }
        let overrides = makeOverrides(log)
        var origins: [String: String] = [:]
        let server = Server(top.section("server", known: Server.keys))
        let postgres = Postgres(top.section("postgres", known: Postgres.keys + Postgres.deprecatedKeys), overrides: overrides, origins: &origins)
        let redis = Redis(top.section("redis", known: Redis.keys), overrides: overrides, origins: &origins)
        let logging = Logging(top.section("logging", known: Logging.keys))
        let authReader = top.section("auth", known: Auth.keys)
        let auth = Auth(authReader, overrides: overrides, origins: &origins)
        let performance = Performance(top.section("performance", known: Performance.keys))
        let spill = Spill(top.section("spill", known: Spill.keys))
        let plugins = Plugins(top.section("plugins", known: Plugins.keys))
        let retention = Retention(top.section("retention", known: Retention.keys))

        if redis.tls != nil, let why = support.redisTLSUnavailable {
            log.add("redis.tls", why, .unsupported)
        }
        if server.tls != nil, auth.adminSSHCA == nil, !authReader.holdsCollection("admin_ssh_ca") {
            log.add("auth.admin_ssh_ca", "required when server.tls is set", .missingKey)
        }
        guard log.isEmpty else { throw ConfigError(issues: log.issues) }

        var config = KernelConfig(server: server, postgres: postgres, redis: redis, logging: logging, auth: auth,
                                  performance: performance, spill: spill, plugins: plugins, retention: retention)
        config.origins = origins
        return config
    }

    /// The document's root node, or nil for an empty document; problems go to `log`.
    private static func compose(_ text: String, log: IssueLog) -> Node? {
        guard text.utf8.count <= maxTextBytes else {
            log.add("", "config text is larger than \(maxTextBytes) bytes", .syntax)
            return nil
        }
        if let problem = YAMLPrecheck.problem(in: text) {
            log.add("", problem, .syntax)
            return nil
        }
        return composeCleared(text, log: log)
    }

    /// `Yams.compose` with its errors logged, for text `YAMLPrecheck` has cleared. Internal so the
    /// tests can use libyaml itself as the oracle the precheck is checked against.
    static func composeCleared(_ text: String, log: IssueLog) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            log.add("", YAMLErrorText.describe(error), .syntax)
        } catch {
            log.add("", "invalid YAML", .syntax)
        }
        return nil
    }
}
