@testable import KernelConfig
import Testing

@Suite("Secrets never leak")
struct SecretRedactionTests {
    static let secrets = [Fixture.dsnSecret, Fixture.redisSecret, "QUJDQUJD", "envdsn-9d1e", "envkey"]

    func expectNoSecret(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in Self.secrets {
            #expect(!text.contains(secret), "leaked \(secret) in: \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test("the redacted description shows every section but no secret")
    func redactedDescription() throws {
        let config = try Fixture.parse(Fixture.yaml([
            "redis": ["password: \(Fixture.redisSecret)"],
            "auth": ["private_key: \(Fixture.privateKey)"],
            "plugins": ["config: {trade: {api_key: \(Fixture.redisSecret)}}"],
        ]))
        let text = config.redactedDescription
        expectNoSecret(text)
        #expect(text.contains("dsn: <redacted>"))
        #expect(text.contains("password: <redacted>"))
        #expect(text.contains("private_key: <redacted>"))
        #expect(text.contains("key_prefix: \"fdc:\""))
        #expect(text.contains("batch_size: 1000"))
        #expect(text.contains("\"trade\": <"))
        for section in KernelConfig.sections {
            #expect(text.contains("\(section):"))
        }
    }

    @Test("the redacted description lists every key the loader knows")
    func redactedCoversEveryKey() throws {
        let config = try Fixture.parse(Fixture.yaml([
            "server": ["tls: {cert_file: c, key_file: k, client_ca_file: ca}"],
            "auth": ["admin_ssh_ca: a"],
        ]))
        let text = config.redactedDescription
        let keys = KernelConfig.Server.keys + KernelConfig.TLS.keys + KernelConfig.Postgres.keys
            + KernelConfig.Redis.keys + KernelConfig.Logging.keys + KernelConfig.Auth.keys
            + KernelConfig.Performance.keys + KernelConfig.Spill.keys + KernelConfig.Plugins.keys
        for key in keys {
            #expect(text.contains(" \(key):") || text.contains("{\(key):"), "\(key) missing")
        }
    }

    @Test("the redacted description says where overridden values came from")
    func redactedOrigins() throws {
        let config = try Fixture.parse(Fixture.yaml(), env: ["KERNEL_PG_DSN": "postgres://u:envdsn-9d1e@h/db"])
        let text = config.redactedDescription
        expectNoSecret(text)
        #expect(text.contains("dsn: <redacted>  # from env KERNEL_PG_DSN"))
        #expect(text.contains("password: null"))
    }

    @Test("secrets of the wrong shape are refused without echoing them")
    func badSecretValues() {
        let yaml = Fixture.yaml([
            "postgres": ["dsn: [\(Fixture.dsnSecret)]"],
            "redis": ["password: {nested: \(Fixture.redisSecret)}"],
            "auth": ["private_key: \"QUJDQUJD-not-base64 \(Fixture.redisSecret)\""],
        ], dropping: ["postgres.dsn"])
        guard let error = Fixture.refusal(yaml) else { return }
        expectNoSecret(error.description)
        #expect(Set(error.issues.map(\.path)).isSuperset(of: ["redis.password", "auth.private_key", "postgres.dsn"]))
    }

    @Test("a YAML syntax error on a secret's line does not quote the line")
    func syntaxErrorDoesNotQuote() {
        let yaml = "postgres:\n  dsn: \"postgres://u:\(Fixture.dsnSecret)@h/db\n  other: [\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.reason == .syntax)
        expectNoSecret(issues.map(\.description).joined())
    }

    @Test("a duplicate key does not print the document")
    func duplicateKeyDoesNotQuote() {
        let yaml = "postgres:\n  dsn: \"x:\(Fixture.dsnSecret)\"\n  dsn: \"y:\(Fixture.dsnSecret)\"\n"
        let issues = Fixture.issues(yaml)
        #expect(issues.count == 1)
        #expect(issues.first?.message.contains("duplicate key \"dsn\"") == true)
        expectNoSecret(issues.map(\.description).joined())
    }

    @Test("environment secrets are not echoed when the override conflicts")
    func environmentConflict() {
        let issues = Fixture.issues(Fixture.yaml(), env: ["KERNEL_PG_DSN": "envdsn-9d1e", "KERNEL_PG_DSN_FILE": "/x"])
        expectNoSecret(issues.map(\.description).joined())
        let badKey = Fixture.issues(Fixture.yaml(), env: ["KERNEL_AUTH_PRIVATE_KEY": "envkey"])
        #expect(Fixture.issue(at: "auth.private_key", in: badKey)?.message.contains("value not shown") == true)
        expectNoSecret(badKey.map(\.description).joined())
    }
}
