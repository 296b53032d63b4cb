@testable import KernelConfig
import Testing

@Suite("Environment overrides")
struct EnvironmentTests {
    @Test("KERNEL_PG_DSN, KERNEL_REDIS_PASSWORD, KERNEL_REDIS_ADDR, KERNEL_AUTH_PRIVATE_KEY override the file")
    func directOverrides() throws {
        let config = try Fixture.parse(Fixture.yaml(["redis": ["password: from-file"]]), env: [
            "KERNEL_PG_DSN": "postgres://env@h/db",
            "KERNEL_REDIS_PASSWORD": "envpass",
            "KERNEL_REDIS_ADDR": "10.0.0.5:16379",
            "KERNEL_AUTH_PRIVATE_KEY": Fixture.privateKey,
        ])
        #expect(config.postgres.dsn == "postgres://env@h/db")
        #expect(config.redis.password == "envpass")
        #expect(config.redis.addr == HostPort(host: "10.0.0.5", port: 16379))
        #expect(config.auth.privateKey == Fixture.privateKey)
        #expect(config.origins["postgres.dsn"] == "env KERNEL_PG_DSN")
        #expect(config.origins["redis.password"] == "env KERNEL_REDIS_PASSWORD")
        #expect(config.origins["redis.addr"] == "env KERNEL_REDIS_ADDR")
        #expect(config.origins["auth.private_key"] == "env KERNEL_AUTH_PRIVATE_KEY")
    }

    @Test("the environment satisfies a required key absent from the file")
    func requiredFromEnvironment() throws {
        let yaml = Fixture.yaml(dropping: ["postgres.dsn", "redis.addr"])
        let config = try Fixture.parse(yaml, env: ["KERNEL_PG_DSN": "postgres://x", "KERNEL_REDIS_ADDR": "r:1"])
        #expect(config.postgres.dsn == "postgres://x")
        #expect(config.redis.addr == HostPort(host: "r", port: 1))
    }

    @Test("_FILE variants read through the injected reader; the trailing newline is dropped")
    func fileOverrides() throws {
        let config = try Fixture.parse(Fixture.yaml(), env: [
            "KERNEL_PG_DSN_FILE": "/run/secrets/dsn",
            "KERNEL_REDIS_PASSWORD_FILE": "/run/secrets/redis",
        ], files: [
            "/run/secrets/dsn": "postgres://file@h/db\n",
            "/run/secrets/redis": "p@ss word\r\n",
        ])
        #expect(config.postgres.dsn == "postgres://file@h/db")
        #expect(config.redis.password == "p@ss word")
        #expect(config.origins["postgres.dsn"] == "file named by KERNEL_PG_DSN_FILE")
    }

    @Test("an empty variable counts as unset")
    func emptyVariable() throws {
        let config = try Fixture.parse(Fixture.yaml(), env: ["KERNEL_PG_DSN": "", "KERNEL_REDIS_PASSWORD_FILE": ""])
        #expect(config.postgres.dsn.contains(Fixture.dsnSecret))
        #expect(config.redis.password == nil)
    }

    @Test("both NAME and NAME_FILE set is an error naming both")
    func bothSet() {
        let issues = Fixture.issues(Fixture.yaml(), env: ["KERNEL_PG_DSN": "a", "KERNEL_PG_DSN_FILE": "/f"],
                                    files: ["/f": "b"])
        let issue = Fixture.issue(at: "postgres.dsn", in: issues)
        #expect(issue?.reason == .environment)
        #expect(issue?.message.contains("KERNEL_PG_DSN_FILE") == true)
    }

    @Test("an unreadable or empty _FILE is an error naming the variable and path")
    func badFile() {
        let missing = Fixture.issues(Fixture.yaml(), env: ["KERNEL_REDIS_PASSWORD_FILE": "/nope"])
        let issue = Fixture.issue(at: "redis.password", in: missing)
        #expect(issue?.message == "cannot read \"/nope\" named by KERNEL_REDIS_PASSWORD_FILE: no such file")
        let empty = Fixture.issues(Fixture.yaml(), env: ["KERNEL_PG_DSN_FILE": "/e"], files: ["/e": "\n"])
        #expect(Fixture.issue(at: "postgres.dsn", in: empty)?.message.contains("is empty") == true)
    }

    @Test("a bad KERNEL_REDIS_ADDR is reported as coming from the environment")
    func badAddrOverride() {
        let issues = Fixture.issues(Fixture.yaml(), env: ["KERNEL_REDIS_ADDR": "nope"])
        #expect(Fixture.issue(at: "redis.addr", in: issues)?.message.contains("from KERNEL_REDIS_ADDR") == true)
    }

    @Test("the environment private key counts against private_key_file")
    func privateKeyConflict() {
        let issues = Fixture.issues(Fixture.yaml(["auth": ["private_key_file: k"]]),
                                    env: ["KERNEL_AUTH_PRIVATE_KEY": Fixture.privateKey])
        #expect(Fixture.issue(at: "auth.private_key_file", in: issues)?.reason == .conflict)
    }
}
