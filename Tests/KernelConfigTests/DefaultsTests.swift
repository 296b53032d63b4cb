@testable import KernelConfig
import Testing

@Suite("Defaults and explicit values")
struct DefaultsTests {
    @Test("postgres.max_conns, deprecated, still parses (an older config starts) and is kept only for the start-up warning")
    func deprecatedMaxConns() throws {
        let config = try Fixture.parse(Fixture.yaml(["postgres": ["max_conns: 8"]]))
        #expect(config.postgres.deprecatedMaxConns == 8)
        #expect(!config.redactedDescription.contains("max_conns"))
        #expect(Fixture.issues(Fixture.yaml(["postgres": ["max_conns: 0"]])).contains { $0.path == "postgres.max_conns" })
    }

    @Test("absent keys take the documented defaults")
    func defaults() throws {
        let config = try Fixture.parse(Fixture.yaml())
        #expect(config.server.listen == HostPort(host: "127.0.0.1", port: 7600))
        #expect(config.server.adminAllowPlaintext == false)
        #expect(config.server.maxMessageBytes == 1_048_576)
        #expect(config.server.maxEventTags == 32)
        #expect(config.server.maxTagKeyBytes == 256)
        #expect(config.server.maxTagValueBytes == 256)
        #expect(config.server.tls == nil)

        #expect(config.postgres.dsn == "postgres://kernel:\(Fixture.dsnSecret)@db:5432/kernel")
        #expect(config.postgres.deprecatedMaxConns == nil)
        #expect(config.postgres.applyMigrations == true)
        #expect(config.postgres.migrationsDir == "migrations")
        #expect(config.postgres.queueSize == 1024)
        #expect(config.postgres.batchSize == 1000)
        #expect(config.postgres.batchMaxWaitMs == 200)
        #expect(config.postgres.writeConnections == 2)
        #expect(config.postgres.circuitBreakerThreshold == 5)
        #expect(config.postgres.circuitBreakerTimeoutSeconds == 30)
        #expect(config.postgres.connectTimeoutMs == 5000)
        #expect(config.postgres.statementTimeoutMs == 30000)

        #expect(config.redis.addr == HostPort(host: "127.0.0.1", port: 6379))
        #expect(config.redis.username == nil)
        #expect(config.redis.password == nil)
        #expect(config.redis.db == 0)
        #expect(config.redis.keyPrefix == "fdc:")
        #expect(config.redis.stream == "events")
        #expect(config.redis.streamKey == "fdc:events")
        #expect(config.redis.consumerGroup == "kernel")
        #expect(config.redis.consumerName == "kernel-" + HostName.current())
        #expect(config.redis.consumerName.count > "kernel-".count)
        #expect(config.redis.readCount == 100)
        #expect(config.redis.blockMs == 5000)
        #expect(config.redis.dlqStream == "events:dlq")
        #expect(config.redis.dlqStreamKey == "fdc:events:dlq")
        #expect(config.redis.maxDeliveries == 5)
        #expect(config.redis.claimIdleMs == 30000)
        #expect(config.redis.dialTimeoutMs == 2000)
        #expect(config.redis.readTimeoutMs == 1000)
        #expect(config.redis.writeTimeoutMs == 1000)
        #expect(config.redis.maxlenApprox == nil)

        #expect(config.logging.level == .info)
        #expect(config.logging.buffer == 4096)
        #expect(config.logging.output == .stdout)

        #expect(config.auth.issuer == "iss")
        #expect(config.auth.audience == "aud")
        #expect(config.auth.keyID == "k1")
        #expect(config.auth.publicKeys.isEmpty)
        #expect(config.auth.publicKeysSSH.isEmpty)
        #expect(config.auth.privateKey == nil)
        #expect(config.auth.privateKeyFile == nil)
        #expect(config.auth.producerSSHCA == "./ca.pub")
        #expect(config.auth.producerPrincipals.isEmpty)
        #expect(config.auth.adminSSHCA == nil)
        #expect(config.auth.adminPrincipal == nil)
        #expect(config.auth.adminAllowedSubjects.isEmpty)
        #expect(config.auth.skewSeconds == 60)
        #expect(config.auth.registrationResponseTTLSeconds == 300)
        #expect(config.auth.registrationRateLimitRPM == 10)
        #expect(config.auth.registrationRateLimitBurst == 3)
        #expect(config.auth.tokenTTLSeconds == 3600)
        #expect(config.auth.revocationCheckSeconds == 1)

        #expect(config.performance.schemaCacheTTLSeconds == 3600)
        #expect(config.spill.dir == "./spill")
        #expect(config.spill.maxBytes == 10 * 1024 * 1024 * 1024)
        #expect(config.spill.segmentBytes == 64 * 1024 * 1024)
        #expect(config.spill.replayBatchSize == 1000)
        #expect(config.plugins.dir == "./plugins")
        #expect(config.plugins.callBudgetMs == 50)
        #expect(config.pluginConfigJSON(for: "trade") == "{}")
        #expect(config.origins.isEmpty)
    }

    @Test("explicit zero is honoured where zero means something")
    func explicitZero() throws {
        let config = try Fixture.parse(Fixture.yaml([
            "postgres": ["batch_max_wait_ms: 0", "statement_timeout_ms: 0", "circuit_breaker_timeout_seconds: 0"],
            "redis": ["db: 0", "claim_idle_ms: 0"],
            "auth": ["skew_seconds: 0", "registration_rate_limit_rpm: 0", "revocation_check_seconds: 0"],
            "server": ["listen: \"127.0.0.1:0\""],
        ]))
        #expect(config.postgres.batchMaxWaitMs == 0)
        #expect(config.postgres.statementTimeoutMs == 0)
        #expect(config.postgres.circuitBreakerTimeoutSeconds == 0)
        #expect(config.redis.claimIdleMs == 0)
        #expect(config.auth.skewSeconds == 0)
        #expect(config.auth.registrationRateLimitRPM == 0)
        #expect(config.auth.revocationCheckSeconds == 0)
        #expect(config.server.listen.port == 0)
    }

    @Test("explicit values are read, including every value kind")
    func explicitValues() throws {
        let config = try Fixture.parse(Fixture.yaml([
            "server": ["listen: \"[::1]:9000\"", "max_message_bytes: 2KiB", "max_event_tags: 0",
                       "max_tag_key_bytes: 64", "max_tag_value_bytes: 1024",
                       "tls: {cert_file: c.pem, key_file: k.pem, client_ca_file: ca.pem}"],
            "postgres": ["apply_migrations: false", "batch_size: 5", "write_connections: 3"],
            "redis": ["username: kernel", "dlq_stream: dead", "maxlen_approx: 100000", "read_count: 7"],
            "logging": ["level: warn", "output: /var/log/kernel.log", "buffer: 1"],
            "auth": ["admin_ssh_ca: ./admin.pub", "admin_principal: ops", "admin_allowed_subjects: [a, b]",
                     "producer_principals: [producer]", "token_ttl_seconds: 60",
                     "public_keys: {old: \"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
                     "public_keys_ssh: {ssh1: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF x\"}"],
            "spill": ["max_bytes: \"512MiB\"", "segment_bytes: 1048576"],
        ]))
        #expect(config.server.listen == HostPort(host: "::1", port: 9000))
        #expect(config.server.listen.description == "[::1]:9000")
        #expect(config.server.maxMessageBytes == 2048)
        #expect(config.server.maxEventTags == 0)
        #expect(config.server.maxTagKeyBytes == 64)
        #expect(config.server.maxTagValueBytes == 1024)
        #expect(config.server.tls == KernelConfig.TLS(certFile: "c.pem", keyFile: "k.pem", clientCAFile: "ca.pem"))
        #expect(config.postgres.applyMigrations == false)
        #expect(config.postgres.batchSize == 5)
        #expect(config.postgres.writeConnections == 3)
        #expect(config.redis.username == "kernel")
        #expect(config.redis.dlqStreamKey == "fdc:dead")
        #expect(config.redis.maxlenApprox == 100_000)
        #expect(config.redis.readCount == 7)
        #expect(config.logging.level == .warn)
        #expect(config.logging.output == .file("/var/log/kernel.log"))
        #expect(config.logging.buffer == 1)
        #expect(config.auth.adminSSHCA == "./admin.pub")
        #expect(config.auth.adminPrincipal == "ops")
        #expect(config.auth.adminAllowedSubjects == ["a", "b"])
        #expect(config.auth.producerPrincipals == ["producer"])
        #expect(config.auth.tokenTTLSeconds == 60)
        #expect(config.auth.publicKeys["old"] != nil)
        #expect(config.auth.publicKeysSSH["ssh1"] != nil)
        #expect(config.spill.maxBytes == 512 << 20)
        #expect(config.spill.segmentBytes == 1 << 20)
    }

    @Test("a null value (`key:`) reads as absent and takes the default")
    func nullIsAbsent() throws {
        let config = try Fixture.parse(Fixture.yaml([
            "postgres": ["batch_size:", "queue_size: ~"],
            "redis": ["maxlen_approx:", "password: \"\""],
            "logging": ["level: null"],
        ]))
        #expect(config.postgres.batchSize == 1000)
        #expect(config.postgres.queueSize == 1024)
        #expect(config.redis.maxlenApprox == nil)
        #expect(config.redis.password == nil)
        #expect(config.logging.level == .info)
    }

    @Test("redis.consumer_name: an explicit name is used, an empty one is refused")
    func consumerName() throws {
        let config = try Fixture.parse(Fixture.yaml(["redis": ["consumer_name: \"kernel-a\""]]))
        #expect(config.redis.consumerName == "kernel-a")
        let issues = Fixture.issues(Fixture.yaml(["redis": ["consumer_name: \"\""]]))
        #expect(Fixture.issue(at: "redis.consumer_name", in: issues) != nil)
    }

    @Test("the dlq stream defaults to <stream>:dlq for a non-default stream")
    func dlqDefaultFollowsStream() throws {
        let yaml = Fixture.yaml(["redis": ["stream: ticks"]], dropping: ["redis.stream"])
        let config = try Fixture.parse(yaml)
        #expect(config.redis.dlqStream == "ticks:dlq")
        #expect(config.redis.dlqStreamKey == "fdc:ticks:dlq")
    }

    @Test("logging output accepts stderr")
    func loggingStderr() throws {
        let config = try Fixture.parse(Fixture.yaml(["logging": ["output: stderr", "level: debug"]]))
        #expect(config.logging.output == .stderr)
        #expect(config.logging.level == .debug)
    }
}
