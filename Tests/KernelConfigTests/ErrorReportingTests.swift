@testable import KernelConfig
import Testing

@Suite("Errors name their key path")
struct ErrorReportingTests {
    @Test("unknown keys at every depth are reported with a suggestion")
    func unknownKeys() {
        let yaml = Fixture.yaml([
            "postgres": ["batch_sise: 10"],
            "server": ["tls: {cert_fil: x}"],
            "performance": ["schema_cache_ttl_second: 5"],
        ]) + "redsi: {}\nwhatever: 1\n"
        let issues = Fixture.issues(yaml)
        #expect(Fixture.issue(at: "postgres.batch_sise", in: issues)?.message
            == "unknown key (did you mean batch_size?)")
        #expect(Fixture.issue(at: "server.tls.cert_fil", in: issues)?.message
            == "unknown key (did you mean cert_file?)")
        #expect(Fixture.issue(at: "performance.schema_cache_ttl_second", in: issues)?.message
            == "unknown key (did you mean schema_cache_ttl_seconds?)")
        #expect(Fixture.issue(at: "redsi", in: issues)?.message == "unknown key (did you mean redis?)")
        #expect(Fixture.issue(at: "whatever", in: issues)?.message == "unknown key")
        #expect(issues.allSatisfy { $0.reason == .unknownKey })
    }

    @Test("keys the kernel does not use are refused, not silently accepted")
    func droppedLegacyKeys() {
        let yaml = Fixture.yaml([
            "server": ["read_timeout_ms: 15000", "ingest_queue_size: 10"],
            "postgres": ["default_producer_id: x", "conn_max_lifetime_ms: 0"],
            "redis": ["retry_max_attempts: 3", "pool_size: 10"],
            "auth": ["require_token: true", "cache_ttl_seconds: 300", "admin_sign_required: true"],
            "performance": ["json_pool_size: 1000"],
        ])
        let issues = Fixture.issues(yaml)
        for path in ["server.read_timeout_ms", "server.ingest_queue_size", "postgres.default_producer_id",
                     "postgres.conn_max_lifetime_ms", "redis.retry_max_attempts",
                     "redis.pool_size", "auth.require_token", "auth.cache_ttl_seconds",
                     "auth.admin_sign_required", "performance.json_pool_size"] {
            #expect(Fixture.issue(at: path, in: issues)?.reason == .unknownKey)
        }
    }

    @Test("invalid values name the path, what was expected and what was found")
    func invalidValues() {
        let yaml = Fixture.yaml([
            "redis": ["read_count: abc", "max_deliveries: 0", "db: -1", "block_ms: 0"],
            "postgres": ["batch_size: 0", "queue_size: 1.5", "apply_migrations: yes please"],
            "logging": ["level: warning"],
            "server": ["listen: localhost", "max_message_bytes: 10 parsecs"],
        ])
        let issues = Fixture.issues(yaml)
        #expect(Fixture.issue(at: "redis.read_count", in: issues)?.message
            == "expected a positive integer no larger than 100000, got \"abc\"")
        #expect(Fixture.issue(at: "redis.max_deliveries", in: issues)?.message
            == "expected a positive integer, got \"0\"")
        #expect(Fixture.issue(at: "redis.db", in: issues)?.message
            == "expected a non-negative integer no larger than 65535, got \"-1\"")
        #expect(Fixture.issue(at: "redis.block_ms", in: issues)?.reason == .invalidValue)
        #expect(Fixture.issue(at: "postgres.batch_size", in: issues)?.message
            == "expected a positive integer, got \"0\"")
        #expect(Fixture.issue(at: "postgres.queue_size", in: issues)?.message
            == "expected a positive integer, got \"1.5\"")
        #expect(Fixture.issue(at: "postgres.apply_migrations", in: issues)?.message
            == "expected true or false, got \"yes please\"")
        #expect(Fixture.issue(at: "logging.level", in: issues)?.message
            == "expected one of debug, info, warn, error, got \"warning\" (did you mean warn?)")
        #expect(Fixture.issue(at: "server.listen", in: issues)?.message.hasPrefix("expected host:port") == true)
        #expect(Fixture.issue(at: "server.max_message_bytes", in: issues)?.message.contains("10 parsecs") == true)
        #expect(issues.count == 10)
    }

    @Test("envelope tag limits are validated, each issue naming its key")
    func tagLimits() {
        let issues = Fixture.issues(Fixture.yaml([
            "server": ["max_event_tags: -1", "max_tag_key_bytes: 0", "max_tag_value_bytes: 4096"],
        ]))
        #expect(Fixture.issue(at: "server.max_event_tags", in: issues)?.message
            == "expected a non-negative integer no larger than 1024, got \"-1\"")
        #expect(Fixture.issue(at: "server.max_tag_key_bytes", in: issues)?.message
            == "expected a positive integer no larger than 1024, got \"0\"")
        #expect(Fixture.issue(at: "server.max_tag_value_bytes", in: issues)?.message
            == "expected a positive integer no larger than 1024, got \"4096\"")
        #expect(issues.count == 3)
    }

    @Test("missing required keys are each reported")
    func missingRequired() {
        let issues = Fixture.issues("logging: {level: info}\n")
        let paths = Set(issues.map(\.path))
        #expect(paths == ["postgres.dsn", "redis.addr", "redis.key_prefix", "redis.stream",
                          "auth.issuer", "auth.audience", "auth.key_id", "auth.producer_ssh_ca"])
        #expect(issues.allSatisfy { $0.reason == .missingKey })
        #expect(Fixture.issue(at: "postgres.dsn", in: issues)?.message.contains("KERNEL_PG_DSN") == true)
    }

    @Test("empty or null required values are reported as missing")
    func emptyRequired() {
        let yaml = Fixture.yaml(["auth": ["issuer: \"\"", "audience:"]], dropping: ["auth.issuer", "auth.audience"])
        let issues = Fixture.issues(yaml)
        #expect(Fixture.issue(at: "auth.issuer", in: issues)?.reason == .missingKey)
        #expect(Fixture.issue(at: "auth.audience", in: issues)?.reason == .missingKey)
        #expect(issues.count == 2)
    }

    @Test("wrong types name the path and the kind found")
    func wrongTypes() {
        let yaml = Fixture.yaml([
            "server": ["tls: [a, b]"],
            "auth": ["admin_allowed_subjects: ops", "public_keys: [a]", "producer_principals: [[x]]"],
            "plugins": ["config: {trade: [1, 2]}", "dir: {a: 1}"],
        ]) + "spill: 5\n"
        let issues = Fixture.issues(yaml)
        #expect(Fixture.issue(at: "server.tls", in: issues)?.message == "expected a mapping, got a sequence")
        #expect(Fixture.issue(at: "auth.admin_allowed_subjects", in: issues)?.message
            == "expected a list of strings, got \"ops\"")
        #expect(Fixture.issue(at: "auth.public_keys", in: issues)?.reason == .wrongType)
        #expect(Fixture.issue(at: "auth.producer_principals[0]", in: issues)?.message
            == "expected a non-empty string, got a sequence")
        #expect(Fixture.issue(at: "plugins.config.trade", in: issues)?.reason == .wrongType)
        #expect(Fixture.issue(at: "plugins.dir", in: issues)?.message == "expected a string, got a mapping")
        #expect(Fixture.issue(at: "spill", in: issues)?.message == "expected a mapping, got \"5\"")
    }

    @Test("every problem is reported at once, one per line in the description")
    func collectedTogether() {
        let yaml = Fixture.yaml([
            "postgres": ["batch_size: 0", "bogus: 1"],
            "redis": ["read_count: x"],
            "logging": ["level: loud"],
        ], dropping: ["auth.issuer"])
        guard let error = Fixture.refusal(yaml) else { return }
        #expect(error.issues.count == 5)
        let lines = error.description.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines.contains("postgres.batch_size: expected a positive integer, got \"0\""))
        #expect(lines.contains("auth.issuer: required"))
        #expect(lines.contains("postgres.bogus: unknown key"))
    }

    @Test("key_prefix must end with a colon; dlq must differ from the stream")
    func redisNames() {
        let yaml = Fixture.yaml(["redis": ["key_prefix: fdc", "dlq_stream: events"]], dropping: ["redis.key_prefix"])
        let issues = Fixture.issues(yaml)
        #expect(Fixture.issue(at: "redis.key_prefix", in: issues)?.message
            == "must end with \":\" (e.g. \"fdc:\"), got \"fdc\"")
        #expect(Fixture.issue(at: "redis.dlq_stream", in: issues)?.reason == .conflict)
    }

    @Test("redis.addr must be host:port with a usable port")
    func redisAddr() {
        for bad in ["127.0.0.1", ":6379", "host:0", "host:65536", "host:http", "::1:6379", "a b:1", "host:"] {
            let yaml = Fixture.yaml(["redis": ["addr: \"\(bad)\""]], dropping: ["redis.addr"])
            let issues = Fixture.issues(yaml)
            #expect(Fixture.issue(at: "redis.addr", in: issues)?.reason == .invalidValue, "\(bad)")
        }
    }

    @Test("TLS needs all three files, and then an admin CA")
    func tlsRules() {
        let partial = Fixture.issues(Fixture.yaml(["server": ["tls: {cert_file: c.pem}"]]))
        #expect(Set(partial.map(\.path)) == ["server.tls.key_file", "server.tls.client_ca_file"])

        let noCA = Fixture.issues(Fixture.yaml(["server": ["tls: {cert_file: c, key_file: k, client_ca_file: ca}"]]))
        #expect(Fixture.issue(at: "auth.admin_ssh_ca", in: noCA)?.message == "required when server.tls is set")

        let empty = try? Fixture.parse(Fixture.yaml(["server": ["tls: {cert_file: \"\", key_file: \"\"}"]]))
        #expect(empty?.server.tls == nil)
    }

    @Test("issuer key: private_key and private_key_file are exclusive; passphrase needs a file")
    func issuerKeyRules() {
        let both = Fixture.issues(Fixture.yaml(["auth": ["private_key: \(Fixture.privateKey)", "private_key_file: k"]]))
        #expect(Fixture.issue(at: "auth.private_key_file", in: both)?.reason == .conflict)
        let orphan = Fixture.issues(Fixture.yaml(["auth": ["private_key_passphrase_file: p"]]))
        #expect(Fixture.issue(at: "auth.private_key_passphrase_file", in: orphan)?.reason == .conflict)
        let badPublic = Fixture.issues(Fixture.yaml(["auth": ["public_keys: {k: \"c2hvcnQ\"}"]]))
        #expect(Fixture.issue(at: "auth.public_keys.k", in: badPublic)?.message
            == "expected base64 of a 32-byte Ed25519 public key")
        let badSSH = Fixture.issues(Fixture.yaml(["auth": ["public_keys_ssh: {k: \"ssh-rsa AAAA\"}"]]))
        #expect(Fixture.issue(at: "auth.public_keys_ssh.k", in: badSSH)?.reason == .invalidValue)
    }

    @Test("spill segment may not exceed the spill budget")
    func spillSizes() {
        let issues = Fixture.issues(Fixture.yaml(["spill": ["max_bytes: 1MiB", "segment_bytes: 2MiB"]]))
        #expect(Fixture.issue(at: "spill.segment_bytes", in: issues)?.reason == .conflict)
    }

    @Test("load reports an unreadable file with its path")
    func unreadableFile() {
        do {
            _ = try KernelConfig.load(path: "/nonexistent/kernel.yaml", environment: [:])
            Issue.record("expected failure")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.issues[0].reason == .unreadable)
            #expect(error.description.contains("/nonexistent/kernel.yaml"))
        }
    }
}
