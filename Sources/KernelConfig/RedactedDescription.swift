extension KernelConfig {
    /// The value shown in place of a secret.
    public static let redacted = "<redacted>"

    /// The effective configuration as YAML-like text for startup logs and `kernel config check`:
    /// every key with its value, secrets replaced by `<redacted>`, plugin settings reduced to
    /// their size (they may hold a plugin's own credentials). Values that came from the
    /// environment say so in a trailing comment.
    public var redactedDescription: String {
        var lines: [String] = []
        func section(_ name: String, _ entries: [(String, String)]) {
            lines.append("\(name):")
            for (key, value) in entries {
                let origin = origins["\(name).\(key)"].map { "  # from \($0)" } ?? ""
                lines.append("  \(key): \(value)\(origin)")
            }
        }
        func quote(_ value: String) -> String { ValueDisplay.quote(value, limit: 256) }
        func text(_ value: String?) -> String { value.map(quote) ?? "null" }
        func secret(_ value: String?) -> String { value == nil ? "null" : KernelConfig.redacted }
        func list(_ values: [String]) -> String { "[" + values.map(quote).joined(separator: ", ") + "]" }
        func map(_ values: [String: String]) -> String {
            "{" + values.keys.sorted().map { "\(quote($0)): \(quote(values[$0]!))" }
                .joined(separator: ", ") + "}"
        }

        section("server", [
            ("listen", text(server.listen.description)),
            ("max_message_bytes", "\(server.maxMessageBytes)"),
            ("max_event_tags", "\(server.maxEventTags)"),
            ("max_tag_key_bytes", "\(server.maxTagKeyBytes)"),
            ("max_tag_value_bytes", "\(server.maxTagValueBytes)"),
            ("max_tags_per_producer", "\(server.maxTagsPerProducer)"),
            ("tls", server.tls.map { "{cert_file: \(text($0.certFile)), key_file: \(text($0.keyFile)), "
                + "client_ca_file: \(text($0.clientCAFile))}" } ?? "null"),
            ("deployment", server.deployment.rawValue),
            ("admin_allow_plaintext", "\(server.adminAllowPlaintext)"),
        ])
        section("postgres", [
            ("dsn", secret(postgres.dsn)),
            ("apply_migrations", "\(postgres.applyMigrations)"),
            ("migrations_dir", text(postgres.migrationsDir)),
            ("queue_size", "\(postgres.queueSize)"),
            ("batch_size", "\(postgres.batchSize)"),
            ("batch_max_wait_ms", "\(postgres.batchMaxWaitMs)"),
            ("batch_linger_ms", "\(postgres.batchLingerMs)"),
            ("max_write_events", "\(postgres.maxWriteEvents)"),
            ("write_connections", "\(postgres.writeConnections)"),
            ("circuit_breaker_threshold", "\(postgres.circuitBreakerThreshold)"),
            ("circuit_breaker_timeout_seconds", "\(postgres.circuitBreakerTimeoutSeconds)"),
            ("connect_timeout_ms", "\(postgres.connectTimeoutMs)"),
            ("statement_timeout_ms", "\(postgres.statementTimeoutMs)"),
        ])
        section("redis", [
            ("addr", text(redis.addr.description)),
            ("username", text(redis.username)),
            ("password", secret(redis.password)),
            ("db", "\(redis.db)"),
            ("key_prefix", text(redis.keyPrefix)),
            ("stream", text(redis.stream)),
            ("consumer_group", text(redis.consumerGroup)),
            ("consumer_name", text(redis.consumerName)),
            ("read_count", "\(redis.readCount)"),
            ("read_pause_ms", "\(redis.readPauseMs)"),
            ("block_ms", "\(redis.blockMs)"),
            ("dlq_stream", text(redis.dlqStream)),
            ("max_deliveries", "\(redis.maxDeliveries)"),
            ("claim_idle_ms", "\(redis.claimIdleMs)"),
            ("dial_timeout_ms", "\(redis.dialTimeoutMs)"),
            ("read_timeout_ms", "\(redis.readTimeoutMs)"),
            ("write_timeout_ms", "\(redis.writeTimeoutMs)"),
            ("maxlen_approx", redis.maxlenApprox.map { "\($0)" } ?? "null"),
            ("cluster", "\(redis.cluster)"),
            ("shards", "\(redis.shards)"),
            ("read_shards", "[" + redis.readShards.map(String.init).joined(separator: ", ") + "]"),
            ("dead_consumer_ms", "\(redis.deadConsumerMs)"),
            ("tls", redis.tls.map { "{ca_file: \(text($0.caFile)), cert_file: \(text($0.certFile)), key_file: \(text($0.keyFile)), "
                + "verify: \($0.verify.rawValue), server_name: \(text($0.serverName))}" } ?? "null"),
        ])
        let output: String
        switch logging.output {
        case .stdout: output = "stdout"
        case .stderr: output = "stderr"
        case .file(let path): output = text(path)
        }
        section("logging", [
            ("level", logging.level.rawValue),
            ("buffer", "\(logging.buffer)"),
            ("output", output),
        ])
        section("auth", [
            ("issuer", text(auth.issuer)),
            ("audience", text(auth.audience)),
            ("key_id", text(auth.keyID)),
            ("public_keys", map(auth.publicKeys)),
            ("public_keys_ssh", map(auth.publicKeysSSH)),
            ("private_key", secret(auth.privateKey)),
            ("private_key_file", text(auth.privateKeyFile)),
            ("private_key_passphrase_file", text(auth.privateKeyPassphraseFile)),
            ("producer_ssh_ca", text(auth.producerSSHCA)),
            ("producer_principals", list(auth.producerPrincipals)),
            ("admin_ssh_ca", text(auth.adminSSHCA)),
            ("admin_principal", text(auth.adminPrincipal)),
            ("admin_allowed_subjects", list(auth.adminAllowedSubjects)),
            ("skew_seconds", "\(auth.skewSeconds)"),
            ("registration_response_ttl_seconds", "\(auth.registrationResponseTTLSeconds)"),
            ("registration_rate_limit_rpm", "\(auth.registrationRateLimitRPM)"),
            ("registration_rate_limit_burst", "\(auth.registrationRateLimitBurst)"),
            ("token_ttl_seconds", "\(auth.tokenTTLSeconds)"),
            ("revocation_check_seconds", "\(auth.revocationCheckSeconds)"),
        ])
        section("performance", [
            ("schema_cache_ttl_seconds", "\(performance.schemaCacheTTLSeconds)"),
            ("binding_cache_seconds", "\(performance.bindingCacheSeconds)"),
            ("processor_threads", "\(performance.processorThreads)"),
        ])
        section("spill", [
            ("dir", text(spill.dir)),
            ("max_bytes", "\(spill.maxBytes)"),
            ("segment_bytes", "\(spill.segmentBytes)"),
            ("replay_batch_size", "\(spill.replayBatchSize)"),
            ("replay_interval_ms", "\(spill.replayIntervalMs)"),
        ])
        let pluginConfigs = plugins.configJSON.keys.sorted()
            .map { "\(quote($0)): <\(plugins.configJSON[$0]!.utf8.count) bytes of JSON>" }
        section("plugins", [
            ("dir", text(plugins.dir)),
            ("config", "{" + pluginConfigs.joined(separator: ", ") + "}"),
            ("call_budget_ms", "\(plugins.callBudgetMs)"),
            ("crash_strikes", "\(plugins.crashStrikes)"),
            ("hang_timeout_ms", "\(plugins.hangTimeoutMs)"),
            ("isolation", plugins.isolation.rawValue),
            ("isolation_overrides", "{" + plugins.isolationOverrides.keys.sorted()
                .map { "\(quote($0)): \(plugins.isolationOverrides[$0]!.rawValue)" }.joined(separator: ", ") + "}"),
        ])
        section("retention", [
            ("months", "\(retention.months)"),
            ("families", map(retention.families.mapValues { String($0) })),
            ("months_ahead", "\(retention.monthsAhead)"),
            ("check_interval_seconds", "\(retention.checkIntervalSeconds)"),
        ])
        return lines.joined(separator: "\n")
    }
}
