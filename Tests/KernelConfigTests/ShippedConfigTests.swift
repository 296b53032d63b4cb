@testable import KernelConfig
import Testing

@Suite("The config files in the repository")
struct ShippedConfigTests {
    /// Repository root: this file is Tests/KernelConfigTests/ShippedConfigTests.swift.
    static var repoRoot: String {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    @Test("config/kernel.example.yaml parses, and documents every key the loader knows")
    func example() throws {
        let path = Self.repoRoot + "/config/kernel.example.yaml"
        let config = try KernelConfig.load(path: path, environment: [:])
        #expect(config.redis.keyPrefix == "fdc:")
        #expect(config.spill.maxBytes == 10 << 30)
        #expect(config.spill.segmentBytes == 64 << 20)
        // Every known key appears in the example, even if commented out.
        let text = try FileText.read(path, limit: 1 << 20)
        let sections: [(String, [String])] = [
            ("server", KernelConfig.Server.keys), ("tls", KernelConfig.TLS.keys),
            ("postgres", KernelConfig.Postgres.keys), ("redis", KernelConfig.Redis.keys), ("tls", KernelConfig.Redis.TLS.keys),
            ("logging", KernelConfig.Logging.keys), ("auth", KernelConfig.Auth.keys),
            ("performance", KernelConfig.Performance.keys), ("spill", KernelConfig.Spill.keys),
            ("plugins", KernelConfig.Plugins.keys), ("retention", KernelConfig.Retention.keys),
        ]
        for (section, keys) in sections {
            #expect(text.contains("\n\(section):") || text.contains("  \(section):"), "\(section)")
            for key in keys {
                #expect(text.contains(" \(key):"), "\(section).\(key) is not documented")
            }
        }
    }

    @Test("config/kernel.yaml (the dev config) parses with the dev services")
    func dev() throws {
        let config = try KernelConfig.load(path: Self.repoRoot + "/config/kernel.yaml", environment: [:])
        #expect(config.redis.addr == HostPort(host: "127.0.0.1", port: 16379))
        #expect(config.postgres.dsn == "postgres://kernel@127.0.0.1:15432/kernel?sslmode=disable")
        #expect(config.redis.streamKey == "fdc:events")
        #expect(config.auth.issuer == "datakernel-dev")
        #expect(config.auth.keyID == "dev-1")
        #expect(config.auth.producerSSHCA == "./.run/ca/producer_ca.pub")
        #expect(config.auth.adminSSHCA == "./.run/ca/admin_ca.pub")
        #expect(config.spill.dir == "./.run/spill")
        #expect(config.plugins.dir == "./plugins")
        #expect(config.logging.output == .stdout)
    }

    @Test("the dev config follows KERNEL_REDIS_ADDR, as the test scripts expect")
    func devWithOverride() throws {
        let config = try KernelConfig.load(path: Self.repoRoot + "/config/kernel.yaml",
                                           environment: ["KERNEL_REDIS_ADDR": "127.0.0.1:26379"])
        #expect(config.redis.addr.port == 26379)
    }
}
