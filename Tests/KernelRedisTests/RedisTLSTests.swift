import Foundation
import KernelRedis
import KernelTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// TLS to Redis (docs/infrastructure.md, "Redis over TLS"). In a build with hiredis_ssl
/// (`make hiredis1-check`): a real `redis-server` of the test's own, on a TLS-only port, with
/// certificates made by `openssl`; the right CA and name connect, a wrong CA or name is refused
/// naming why, a Redis that requires client certificates takes the configured one. In a build
/// without (Debian 12's hiredis 0.14): `redis.tls` is refused, at the connection too, saying why.
@Suite("Redis over TLS", .serialized)
struct RedisTLSTests {
    /// `redis-server` speaking TLS only, on a free loopback port; `stop()` ends it.
    final class TLSRedis {
        let port: Int
        let process = Process()
        let dir: String

        init(_ pki: TestCertificates, requireClientCertificates: Bool) throws {
            port = try LoopbackPort.free()
            dir = pki.dir + "/redis-\(port)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "redis-server", "--port", "0", "--tls-port", "\(port)", "--bind", "127.0.0.1", "--dir", dir,
                "--save", "", "--appendonly", "no", "--logfile", dir + "/redis.log",
                "--tls-cert-file", pki.serverCertFile, "--tls-key-file", pki.serverKeyFile, "--tls-ca-cert-file", pki.caFile,
                "--tls-auth-clients", requireClientCertificates ? "yes" : "no",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        var endpoint: RedisConnection.Endpoint { RedisConnection.Endpoint(host: "127.0.0.1", port: Int32(port)) }

        /// Runs `body` against a server of its own with certificates of their own, once it answers
        /// a PING over `readyWith(pki)` (handed to `body`); stops the server and removes them after.
        static func with(requireClientCertificates: Bool, readyWith: (TestCertificates) -> RedisSettings.TLS,
                         _ body: (TestCertificates, TLSRedis, RedisSettings.TLS) throws -> Void) throws {
            let pki = try TestCertificates()
            defer { pki.remove() }
            let redis = try TLSRedis(pki, requireClientCertificates: requireClientCertificates)
            defer { redis.stop() }
            let tls = readyWith(pki)
            try redis.waitUntilReady(tls)
            try body(pki, redis, tls)
        }

        /// Waits until the server answers a TLS PING with `tls` (up to 10 s).
        func waitUntilReady(_ tls: RedisSettings.TLS) throws {
            for _ in 0..<200 {
                if let c = try? RedisConnection(endpoint: endpoint, timeoutMs: 1000, tls: tls),
                   (try? c.command(["PING"])) == .status("PONG") { return }
                usleep(50_000)
            }
            throw TestCertificatesError(message: "redis-server with TLS did not start; see \(dir)/redis.log")
        }

        /// SIGKILL: a child started from a test thread inherits its blocked signals, so SIGTERM
        /// would stay pending forever; the server keeps nothing worth a clean shutdown.
        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    /// The error of a TLS connection that must be refused (`nil`, recording a failure, when it is made).
    func refusal(_ endpoint: RedisConnection.Endpoint, _ tls: RedisSettings.TLS, _ comment: Comment) -> RedisError? {
        #expect(throws: RedisError.self, comment) { try RedisConnection(endpoint: endpoint, timeoutMs: 5000, tls: tls) }
    }

    @Test(.enabled(if: RedisTLSSupport.available))
    func theRightCAAndNameConnectAWrongOneIsRefusedSayingWhy() throws {
        try TLSRedis.with(requireClientCertificates: false, readyWith: { pki in RedisSettings.TLS(caFile: pki.caFile) }) { pki, redis, good in
            // verify: full against the address's own name (the certificate carries IP:127.0.0.1).
            let c = try RedisConnection(endpoint: redis.endpoint, timeoutMs: 5000, tls: good)
            let big = [UInt8](repeating: 0x61, count: 200_000)   // spans many TLS records
            #expect(try c.command([Array("SET".utf8), Array("dk-tls:big".utf8), big]) == .status("OK"))
            #expect(try c.command([Array("GET".utf8), Array("dk-tls:big".utf8)]) == .string(big))
            #expect(try c.pipeline([[Array("PING".utf8)], [Array("ECHO".utf8), Array("tls".utf8)]])
                    == [.status("PONG"), .string(Array("tls".utf8))])
            // server_name overrides the name checked: one the certificate carries passes.
            let named = try RedisConnection(endpoint: redis.endpoint, timeoutMs: 5000,
                                            tls: RedisSettings.TLS(caFile: pki.caFile, serverName: "localhost"))
            #expect(try named.command(["PING"]) == .status("PONG"))

            // The wrong CA: refused at connect, naming the verification failure.
            if let error = refusal(redis.endpoint, RedisSettings.TLS(caFile: pki.otherCAFile),
                                   "a server certificate from another CA was accepted") {
                #expect(error.kind == .connect)
                #expect(error.message.contains("certificate verification"), "\(error.message)")
                #expect(error.message.contains("127.0.0.1:\(redis.port)"), "\(error.message)")
            }
            // A name the certificate does not carry: refused with verify: full, accepted with verify: ca.
            let elsewhere = RedisSettings.TLS(caFile: pki.caFile, verify: .full, serverName: "elsewhere.test")
            if let error = refusal(redis.endpoint, elsewhere, "a certificate for another name was accepted with verify: full") {
                #expect(error.kind == .connect)
                #expect(error.message.contains("certificate verification") && error.message.contains("elsewhere.test"),
                        "\(error.message)")
            }
            var chainOnly = elsewhere
            chainOnly.verify = .ca
            let unnamed = try RedisConnection(endpoint: redis.endpoint, timeoutMs: 5000, tls: chainOnly)
            #expect(try unnamed.command(["PING"]) == .status("PONG"))
            // A missing CA file is named.
            if let error = refusal(redis.endpoint, RedisSettings.TLS(caFile: pki.dir + "/missing.pem"), "a missing CA file was accepted") {
                #expect(error.message.contains("redis.tls.ca_file"), "\(error.message)")
            }
            _ = try c.command(["DEL", "dk-tls:big"])
        }
    }

    /// A subscribed connection over TLS (the revocation listener's): messages arrive through
    /// `nextReply`, including those OpenSSL decrypted in one read with an earlier one.
    @Test(.enabled(if: RedisTLSSupport.available))
    func aSubscribedConnectionReceivesOverTLS() throws {
        try TLSRedis.with(requireClientCertificates: false, readyWith: { pki in RedisSettings.TLS(caFile: pki.caFile) }) { _, redis, tls in
            let subscriber = try RedisConnection(endpoint: redis.endpoint, timeoutMs: 5000, tls: tls)
            let publisher = try RedisConnection(endpoint: redis.endpoint, timeoutMs: 5000, tls: tls)
            _ = try subscriber.command(["SUBSCRIBE", "dk-tls:channel"])
            for n in 0..<3 { #expect(try publisher.command(["PUBLISH", "dk-tls:channel", "m\(n)"]) == .integer(1)) }
            var texts: [String] = []
            for _ in 0..<40 where texts.count < 3 {
                guard let reply = try subscriber.nextReply(timeoutMs: 250), let items = reply.array else { continue }
                texts.append(items.compactMap(\.text).joined(separator: "|"))
            }
            #expect(texts == ["message|dk-tls:channel|m0", "message|dk-tls:channel|m1", "message|dk-tls:channel|m2"])
        }
    }

    /// `tls-auth-clients yes`: the configured client certificate gets in; without one the server
    /// ends the session (with TLS 1.3 at the first command rather than in the handshake).
    @Test(.enabled(if: RedisTLSSupport.available))
    func aServerRequiringClientCertificatesTakesTheConfiguredOne() throws {
        try TLSRedis.with(requireClientCertificates: true, readyWith: { pki in
            RedisSettings.TLS(caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile)
        }) { pki, redis, withCertificate in
            let c = try RedisConnection(endpoint: redis.endpoint, timeoutMs: 5000, tls: withCertificate)
            #expect(try c.command(["PING"]) == .status("PONG"))
            #expect(throws: RedisError.self) {
                let anonymous = try RedisConnection(endpoint: redis.endpoint, timeoutMs: 5000, tls: RedisSettings.TLS(caFile: pki.caFile))
                _ = try anonymous.command(["PING"])
            }
        }
    }

    /// Without hiredis_ssl the build says so: `RedisTLSSupport` names the hiredis version and the
    /// way out, and a connection asked for TLS is refused rather than made in clear.
    @Test(.enabled(if: !RedisTLSSupport.available))
    func aBuildWithoutTLSRefusesItSayingWhy() throws {
        let reason = try #require(RedisTLSSupport.unavailableReason)
        #expect(reason.contains("hiredis \(RedisTLSSupport.hiredisVersion)"), "\(reason)")
        #expect(reason.contains("DK_HIREDIS_SSL=1"), "\(reason)")
        let addr = ProcessInfo.processInfo.environment["KERNEL_REDIS_ADDR"] ?? "127.0.0.1:16379"
        if let error = refusal(RedisConnection.Endpoint(address: addr)!, RedisSettings.TLS(),
                               "a TLS connection was made by a build without TLS") {
            #expect(error.kind == .connect)
            #expect(error.message.contains("built without TLS"), "\(error.message)")
        }
    }
}
