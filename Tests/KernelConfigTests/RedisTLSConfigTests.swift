@testable import KernelConfig
import Testing

/// `redis.tls` (docs/infrastructure.md, "Redis over TLS"): read and checked like every section,
/// and refused naming the key when the build has no TLS (the caller says so through
/// `BuildSupport`; `kernel` passes what its hiredis can do).
@Suite("redis.tls configuration")
struct RedisTLSConfigTests {
    @Test func absentMeansPlainTCP() throws {
        #expect(try Fixture.parse(Fixture.yaml()).redis.tls == nil)
    }

    @Test func everyKeyIsRead() throws {
        let config = try Fixture.parse(Fixture.yaml(["redis": [
            "tls:", "    ca_file: /etc/dk/redis-ca.pem", "    cert_file: /etc/dk/kernel.pem", "    key_file: /etc/dk/kernel.key",
            "    verify: ca", "    server_name: redis.internal",
        ]]))
        #expect(config.redis.tls == KernelConfig.Redis.TLS(caFile: "/etc/dk/redis-ca.pem", certFile: "/etc/dk/kernel.pem",
                                                           keyFile: "/etc/dk/kernel.key", verify: .ca, serverName: "redis.internal"))
    }

    /// A section written without `enabled` is on, with full verification: forgetting a key must
    /// not fall back to plain TCP or to a check of nothing.
    @Test func aSectionIsEnabledWithFullVerificationByDefault() throws {
        let config = try Fixture.parse(Fixture.yaml(["redis": ["tls:", "    ca_file: ca.pem"]]))
        #expect(config.redis.tls == KernelConfig.Redis.TLS(caFile: "ca.pem", verify: .full))
        let empty = try Fixture.parse(Fixture.yaml(["redis": ["tls: {}"]]))
        #expect(empty.redis.tls == KernelConfig.Redis.TLS())
    }

    @Test func enabledFalseTurnsItOff() throws {
        let config = try Fixture.parse(Fixture.yaml(["redis": ["tls:", "    enabled: false", "    ca_file: ca.pem"]]))
        #expect(config.redis.tls == nil)
    }

    @Test func badValuesAreRefusedByKey() {
        let issues = Fixture.issues(Fixture.yaml(["redis": [
            "tls:", "    verify: none", "    cert_file: kernel.pem", "    ca_flie: ca.pem", "    enabled: maybe",
        ]]))
        #expect(Fixture.issue(at: "redis.tls.verify", in: issues)?.reason == .invalidValue)
        #expect(Fixture.issue(at: "redis.tls.verify", in: issues)?.message.contains("full, ca") == true)
        #expect(Fixture.issue(at: "redis.tls.key_file", in: issues)?.reason == .missingKey)
        #expect(Fixture.issue(at: "redis.tls.ca_flie", in: issues)?.reason == .unknownKey)
        #expect(Fixture.issue(at: "redis.tls.ca_flie", in: issues)?.message.contains("ca_file") == true)
        #expect(Fixture.issue(at: "redis.tls.enabled", in: issues)?.reason == .invalidValue)
        let notAMapping = Fixture.issues(Fixture.yaml(["redis": ["tls: yes"]]))
        #expect(Fixture.issue(at: "redis.tls", in: notAMapping)?.reason == .wrongType)
        let badName = Fixture.issues(Fixture.yaml(["redis": ["tls:", "    server_name: \"a b\""]]))
        #expect(Fixture.issue(at: "redis.tls.server_name", in: badName)?.reason == .invalidValue)
    }

    /// A build without TLS refuses the section at load, with the caller's reason, alongside the
    /// file's other problems; a section that is off is not refused.
    @Test func aBuildWithoutTLSRefusesTheSectionNamingIt() throws {
        let support = KernelConfig.BuildSupport(redisTLSUnavailable: "no TLS in this build")
        let text = Fixture.yaml(["redis": ["tls:", "    ca_file: ca.pem"], "postgres": ["batch_sise: 3"]])
        do {
            _ = try KernelConfig.parse(yaml: text, support: support)
            Issue.record("expected redis.tls to be refused")
        } catch {
            let issue = Fixture.issue(at: "redis.tls", in: error.issues)
            #expect(issue?.reason == .unsupported)
            #expect(issue?.reason.rawValue == "config_unsupported")
            #expect(issue?.description == "redis.tls: no TLS in this build")
            #expect(error.issues.contains { $0.path == "postgres.batch_sise" })
        }
        let off = Fixture.yaml(["redis": ["tls:", "    enabled: false"]])
        #expect(try KernelConfig.parse(yaml: off, support: support).redis.tls == nil)
        #expect(try KernelConfig.parse(yaml: Fixture.yaml(["redis": ["tls: {}"]]), support: .everything).redis.tls != nil)
    }

    @Test func theEffectiveConfigShowsIt() throws {
        let config = try Fixture.parse(Fixture.yaml(["redis": ["tls:", "    ca_file: ca.pem", "    server_name: r.internal"]]))
        #expect(Self.redisSection(config.redactedDescription).contains(
            "  tls: {ca_file: \"ca.pem\", cert_file: null, key_file: null, verify: full, server_name: \"r.internal\"}"))
        #expect(Self.redisSection(try Fixture.parse(Fixture.yaml()).redactedDescription).contains("  tls: null"))
    }

    /// The lines of the `redis:` section (`server:` has a `tls` line of its own).
    static func redisSection(_ description: String) -> [String] {
        let lines = description.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(of: "redis:") else { return [] }
        return Array(lines[(start + 1)...].prefix { $0.hasPrefix("  ") })
    }
}
