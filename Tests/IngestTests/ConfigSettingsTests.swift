import KernelAuth
import KernelConfig
import KernelCore
import KernelRedis
import Testing

/// The configuration reaches the library modules through one mapping in KernelCore
/// (docs/architecture.md, "Modules"): every value a module's settings take is the loaded
/// configuration's, derived values (the command timeout, the default host) as the modules
/// computed them when they read `KernelConfig` themselves.
@Suite("Config settings")
struct ConfigSettingsTests {
    /// A configuration text with `redis` and `auth` lines added to those sections.
    static func text(redis: [String] = [], auth: [String] = []) -> String {
        """
        postgres:
          dsn: "postgres://kernel@db:5432/kernel"
        redis:
          addr: "10.1.2.3:6390"
          key_prefix: "fdc:"
          stream: events
        \(redis.map { "  " + $0 }.joined(separator: "\n"))
        auth:
          issuer: iss
          audience: aud
          key_id: k1
          producer_ssh_ca: ./ca.pub
        \(auth.map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    static func config(redis: [String] = [], auth: [String] = []) throws -> KernelConfig {
        try KernelConfig.parse(yaml: text(redis: redis, auth: auth))
    }

    @Test func redisSettingsCarryEveryConnectionKey() throws {
        let config = try Self.config(redis: [
            "username: ingest", "password: redis-secret", "db: 3", "dial_timeout_ms: 700", "read_timeout_ms: 1500",
            "write_timeout_ms: 2500",
            "tls:", "  ca_file: /etc/dk/ca.pem", "  cert_file: /etc/dk/k.pem", "  key_file: /etc/dk/k.key", "  verify: ca",
            "  server_name: redis.internal",
        ])
        let settings = config.redisSettings
        #expect(settings.endpoint.host == config.redis.addr.host)
        #expect(Int(settings.endpoint.port) == config.redis.addr.port)
        #expect(settings.username == config.redis.username && settings.password == config.redis.password)
        #expect(settings.db == config.redis.db)
        #expect(settings.dialTimeoutMs == config.redis.dialTimeoutMs)
        // Commands wait for the longer of the two socket timeouts.
        #expect(settings.commandTimeoutMs == config.redis.writeTimeoutMs)
        #expect(config.redis.writeTimeoutMs > config.redis.readTimeoutMs)
        #expect(!settings.cluster)
        let configTLS = try #require(config.redis.tls)
        let tls = try #require(settings.tls)
        #expect(tls.caFile == configTLS.caFile && tls.certFile == configTLS.certFile && tls.keyFile == configTLS.keyFile)
        #expect(tls.verify.rawValue == configTLS.verify.rawValue)
        #expect(tls.serverName == configTLS.serverName)
    }

    @Test func redisSettingsOfAClusterWithoutTLS() throws {
        let config = try Self.config(redis: ["read_timeout_ms: 3000", "cluster: true"])
        #expect(config.redis.tls == nil)
        #expect(config.redisSettings.tls == nil)
        #expect(config.redisSettings.cluster)
        #expect(config.redisSettings.commandTimeoutMs == config.redis.readTimeoutMs)
    }

    @Test func authSettingsCarryTheTokenKeys() throws {
        let config = try Self.config(auth: [
            "private_key_file: /nonexistent/issuer.key", "skew_seconds: 5", "token_ttl_seconds: 600",
            "public_keys:", "  old: \"\(TokenVerifierKey.base64)\"",
        ])
        let settings = config.authSettings
        #expect(settings.issuer == config.auth.issuer && settings.audience == config.auth.audience)
        #expect(settings.keyID == config.auth.keyID)
        #expect(settings.publicKeys == config.auth.publicKeys && settings.publicKeysSSH == config.auth.publicKeysSSH)
        #expect(settings.privateKey == config.auth.privateKey && settings.privateKeyFile == config.auth.privateKeyFile)
        #expect(settings.privateKeyPassphraseFile == config.auth.privateKeyPassphraseFile)
        #expect(settings.skewSeconds == config.auth.skewSeconds)
        #expect(settings.tokenTTLSeconds == config.auth.tokenTTLSeconds)
        // The keys load from the settings as they did from the configuration: the public key
        // verifies, the missing issuer key file is reported under its configuration key.
        let verifier = try TokenVerifier(settings: settings)
        #expect(verifier.keys["old"] != nil)
        #expect(verifier.issuerKeyProblem?.message.hasPrefix("auth.private_key_file: ") == true, "\(String(describing: verifier.issuerKeyProblem))")
        #expect(verifier.skewSeconds == Int64(config.auth.skewSeconds))
    }

    /// `kernel` loads its configuration with what its hiredis can do: a build without TLS refuses
    /// `redis.tls` at load, naming the key, rather than at the first connection.
    @Test func theBuildsTLSSupportReachesTheLoader() throws {
        #expect(RedisTLSSupport.buildSupport.redisTLSUnavailable == RedisTLSSupport.unavailableReason)
        let text = Self.text(redis: ["tls:", "  ca_file: /etc/dk/ca.pem"])
        do {
            let config = try KernelConfig.parse(yaml: text, support: RedisTLSSupport.buildSupport)
            #expect(RedisTLSSupport.available)
            #expect(config.redisSettings.tls?.caFile == "/etc/dk/ca.pem")
        } catch {
            #expect(!RedisTLSSupport.available)
            #expect(error.issues.contains { $0.path == "redis.tls" }, "\(error.issues)")
        }
    }
}

/// A public key for `auth.public_keys`.
enum TokenVerifierKey {
    static let base64 = try! Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32)).publicKey.base64
}
