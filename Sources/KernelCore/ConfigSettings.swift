import KernelAdmin
import KernelAuth
import KernelConfig
import KernelOnboarding
import KernelRedis

// The configuration, mapped to the plain settings the library modules declare, one mapping per
// module and all of them here. KernelRedis, KernelAuth, KernelOnboarding and KernelAdmin do not
// import KernelConfig (docs/architecture.md, "Modules"): the composition root, which knows both
// sides, does the mapping, and the `kernel` command, the bench and the tests reach it through
// KernelCore. The keys are validated by KernelConfig at load; nothing here checks or defaults
// a value again.
extension KernelConfig {
    /// How to connect to Redis, from `redis.*`: an empty host is 127.0.0.1; commands wait the
    /// longer of `read_timeout_ms` and `write_timeout_ms`.
    public var redisSettings: RedisSettings {
        RedisSettings(endpoint: RedisConnection.Endpoint(host: redis.addr.host.isEmpty ? "127.0.0.1" : redis.addr.host,
                                                         port: Int32(redis.addr.port)),
                      username: redis.username, password: redis.password, db: redis.db,
                      dialTimeoutMs: redis.dialTimeoutMs,
                      commandTimeoutMs: max(redis.readTimeoutMs, redis.writeTimeoutMs),
                      cluster: redis.cluster, tls: redis.tls.map(Self.redisTLSSettings))
    }

    static func redisTLSSettings(_ tls: Redis.TLS) -> RedisSettings.TLS {
        let verify: RedisSettings.TLS.Verify = switch tls.verify {
        case .full: .full
        case .ca: .ca
        }
        return RedisSettings.TLS(caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, verify: verify,
                                 serverName: tls.serverName)
    }

    /// The token keys and times, from `auth.*`.
    public var authSettings: AuthSettings {
        var settings = AuthSettings(issuer: auth.issuer, audience: auth.audience, keyID: auth.keyID)
        settings.publicKeys = auth.publicKeys
        settings.publicKeysSSH = auth.publicKeysSSH
        settings.privateKey = auth.privateKey
        settings.privateKeyFile = auth.privateKeyFile
        settings.privateKeyPassphraseFile = auth.privateKeyPassphraseFile
        settings.skewSeconds = auth.skewSeconds
        settings.tokenTTLSeconds = auth.tokenTTLSeconds
        return settings
    }

    /// The control streams' settings (docs/onboarding.md), resolved: the producer CA and the
    /// issuer key are loaded here, and their problems kept for `logProblems`.
    public var onboardingSettings: OnboardingSettings {
        OnboardingSettings(keyPrefix: redis.keyPrefix, consumerGroup: redis.consumerGroup, consumerName: redis.consumerName,
                           maxDeliveries: redis.maxDeliveries, producerSSHCA: auth.producerSSHCA,
                           principals: auth.producerPrincipals, responseTTLSeconds: auth.registrationResponseTTLSeconds,
                           rateLimitRPM: auth.registrationRateLimitRPM, rateLimitBurst: auth.registrationRateLimitBurst,
                           auth: authSettings, postgresDSN: postgres.connectionDSN(), redis: redisSettings)
    }

    /// The admin listener's settings, from `server.*`, `auth.admin_*`, `redis.*` and `postgres.dsn`.
    public var adminSettings: AdminSettings {
        var settings = AdminSettings(listen: AdminSettings.Listen(host: server.listen.host, port: server.listen.port),
                                     keyPrefix: redis.keyPrefix, redis: redisSettings, postgresDSN: postgres.dsn)
        settings.tls = server.tls.map { AdminSettings.TLS(certFile: $0.certFile, keyFile: $0.keyFile, clientCAFile: $0.clientCAFile) }
        settings.adminSSHCA = auth.adminSSHCA
        settings.adminPrincipal = auth.adminPrincipal
        settings.adminAllowedSubjects = auth.adminAllowedSubjects
        settings.skewSeconds = auth.skewSeconds
        settings.responseTTLSeconds = auth.registrationResponseTTLSeconds
        settings.redisReadTimeoutMs = redis.readTimeoutMs
        return settings
    }
}

extension RedisTLSSupport {
    /// What `KernelConfig.load` needs to refuse `redis.tls` in a build without TLS.
    public static var buildSupport: KernelConfig.BuildSupport {
        KernelConfig.BuildSupport(redisTLSUnavailable: unavailableReason)
    }
}
