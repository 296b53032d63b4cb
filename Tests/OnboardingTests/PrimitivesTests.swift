import Foundation
@testable import KernelOnboarding
import KernelRedis
import KernelTestSupport
import Testing
import KernelCrypto

/// The building blocks: hashes, the Redis rate limiter, the nonce guard, the response writer.
@Suite("OnboardingPrimitives")
struct PrimitivesTests {
    static func openssl(_ args: [String], input: [UInt8]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        try p.run()
        inPipe.fileHandleForWriting.write(Data(input))
        try inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        // "SHA3-512(stdin)= <hex>"
        return String(decoding: out, as: UTF8.self).split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }

    @Test func digestsMatchKnownVectors() {
        #expect(Hex.lowercase(Digest.sha1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Hex.lowercase(Digest.sha1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(Hex.lowercase(Digest.sha3_512.hash(Array("abc".utf8)))
                == "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0")
        #expect(Hex.lowercase(Digest.sha3_512.hash([]))
                == "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26")
    }

    @Test(arguments: [1, 55, 56, 63, 64, 71, 72, 73, 143, 144, 1000])
    func digestsMatchOpenSSLAtBlockBoundaries(length: Int) throws {
        let input = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(Hex.lowercase(Digest.sha1.hash(input)) == (try Self.openssl(["dgst", "-sha1"], input: input)))
        #expect(Hex.lowercase(Digest.sha3_512.hash(input)) == (try Self.openssl(["dgst", "-sha3-512"], input: input)))
        #expect(Base64.standardEncode(input) == Data(input).base64EncodedString())
        #expect(Base64.standardDecode(Array(Data(input).base64EncodedString().utf8)) == input)
    }

    @Test func base64DecoderRefusesOtherAlphabets() {
        #expect(Base64.standardDecode(Array("ab-_".utf8)) == nil)
        #expect(Base64.standardDecode(Array("ab c".utf8)) == nil)
        #expect(Base64.standardDecode(Array("a".utf8)) == nil)
        #expect(Base64.standardDecode(Array("YQ===".utf8)) == nil)
        #expect(Base64.standardDecode(Array("YQ".utf8)) == Array("a".utf8))
    }

    @Test func scriptSHAIsWhatRedisComputes() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        #expect(try h.redis.command(["SCRIPT", "LOAD", RateLimiter.script]).text == RateLimiter.scriptSHA)
    }

    @Test func pinnedBucketOneOneAllowsOnceThenDenies() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let limiter = RateLimiter(keyPrefix: h.prefix, rpm: 1, burst: 1)
        #expect(limiter.allow(op: "reg", identity: "x", redis: h.redis) == .allowed)
        #expect(limiter.allow(op: "reg", identity: "x", redis: h.redis) == .denied)
        // Buckets are per op and per identity.
        #expect(limiter.allow(op: "token", identity: "x", redis: h.redis) == .allowed)
        #expect(limiter.allow(op: "reg", identity: "y", redis: h.redis) == .allowed)
        let ttl = try h.ttl("rl:reg:x")
        #expect(ttl > 0 && ttl <= 120)
        // No whole token left. Not "0" exactly: the script's clock is Redis TIME in whole seconds,
        // and a second boundary between the two calls refills 1/60 of a token (CI saw "0.0166…").
        let left = try #require(Double(try h.redis.command(["HGET", h.prefix + "rl:reg:x", "tokens"]).text ?? ""))
        #expect(left >= 0 && left < 1, "tokens left: \(left)")
    }

    @Test func burstAllowsCapacityRequests() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let limiter = RateLimiter(keyPrefix: h.prefix, rpm: 10, burst: 3)
        let decisions = (0..<5).map { _ in limiter.allow(op: "subject", identity: "p", redis: h.redis) }
        #expect(decisions == [.allowed, .allowed, .allowed, .denied, .denied])
    }

    @Test func bucketRefillsWithRedisTime() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let limiter = RateLimiter(keyPrefix: h.prefix, rpm: 60, burst: 1)
        #expect(limiter.allow(op: "reg", identity: "x", redis: h.redis) == .allowed)
        // Pretend the last refill was 5 s ago: 5 tokens refilled, capped at the capacity 1.
        let now = Int64(try h.redis.command(["TIME"]).array![0].text!)!
        _ = try h.redis.command(["HSET", h.prefix + "rl:reg:x", "ts", String(now - 5)])
        #expect(limiter.allow(op: "reg", identity: "x", redis: h.redis) == .allowed)
        #expect(limiter.allow(op: "reg", identity: "x", redis: h.redis) == .denied)
    }

    @Test func limiterFallsBackToEvalAfterScriptFlush() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        _ = try h.redis.command(["SCRIPT", "FLUSH"])
        let limiter = RateLimiter(keyPrefix: h.prefix, rpm: 1, burst: 1)
        #expect(limiter.allow(op: "reg", identity: "z", redis: h.redis) == .allowed)
        #expect(try h.redis.command(["SCRIPT", "EXISTS", RateLimiter.scriptSHA]).array?.first?.integer == 1)
        #expect(limiter.allow(op: "reg", identity: "z", redis: h.redis) == .denied)
    }

    @Test func limiterFailsClosed() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let connection = try RedisConnection(endpoint: RedisConnection.Endpoint(address: TestDatabase.redisAddr)!, timeoutMs: 1000)
        connection.close()
        let decision = RateLimiter(keyPrefix: h.prefix, rpm: 10, burst: 3).allow(op: "reg", identity: "x", redis: connection)
        guard case .error = decision else { Issue.record("expected an error, got \(decision)"); return }
        #expect(!decision.isAllowed)
        // A key of the wrong type makes the script fail: also closed.
        _ = try h.redis.command(["SET", h.prefix + "rl:reg:w", "string"])
        #expect(!RateLimiter(keyPrefix: h.prefix, rpm: 10, burst: 3).allow(op: "reg", identity: "w", redis: h.redis).isAllowed)
    }

    @Test func nonceGuardClaimsOnceWithTTL() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let guardian = NonceGuard()
        let key = h.prefix + "nonce:test:n1"
        #expect(guardian.claim(key: key, ttlSeconds: 600, onRedisError: .allow, redis: h.redis) == .fresh)
        #expect(guardian.claim(key: key, ttlSeconds: 600, onRedisError: .allow, redis: h.redis) == .replay)
        let ttl = try h.redis.command(["TTL", key]).integer ?? -2
        #expect(ttl > 590 && ttl <= 600)
    }

    @Test func nonceGuardErrorPolicy() throws {
        let connection = try RedisConnection(endpoint: RedisConnection.Endpoint(address: TestDatabase.redisAddr)!, timeoutMs: 1000)
        connection.close()
        var errors: [String] = []
        #expect(NonceGuard().claim(key: "k", ttlSeconds: 1, onRedisError: .allow, redis: connection) { errors.append($0) } == .fresh)
        #expect(NonceGuard().claim(key: "k", ttlSeconds: 1, onRedisError: .deny, redis: connection) == .replay)
        #expect(errors.count == 1)
    }

    @Test func responseWriterAddsInOrderAndRefreshesTTL() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let writer = ResponseWriter()
        #expect(writer.respond(stream: h.prefix + "x:resp:1", fields: [("b", "2"), ("a", "1")], ttlSeconds: 30, redis: h.redis))
        _ = try h.redis.command(["EXPIRE", h.prefix + "x:resp:1", "5"])
        #expect(writer.respond(stream: h.prefix + "x:resp:1", fields: [("c", "3")], ttlSeconds: 30, redis: h.redis))
        let ttl = try h.ttl("x:resp:1")
        #expect(ttl > 20 && ttl <= 30)
        let raw = try h.redis.command(["XRANGE", h.prefix + "x:resp:1", "-", "+"]).array ?? []
        #expect(raw.first?.array?[1].array?.compactMap(\.text) == ["b", "2", "a", "1"])
        #expect(try h.responses("x:resp:1").count == 2)
        // A non-positive TTL falls back to 300 s.
        #expect(writer.respond(stream: h.prefix + "x:resp:2", fields: [("a", "1")], ttlSeconds: 0, redis: h.redis))
        #expect(try h.ttl("x:resp:2") > 290)
    }

    @Test func settingsFollowTheConfig() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        h.authYAML = ["registration_rate_limit_rpm: 7", "registration_rate_limit_burst: 2", "token_ttl_seconds: 99",
                      "registration_response_ttl_seconds: 42", "skew_seconds: 5"]
        let settings = try h.settings(principals: ["p1"])
        #expect(settings.keyPrefix == h.prefix)
        #expect(settings.consumerGroup == "kernel")
        #expect(settings.rateLimitRPM == 7 && settings.rateLimitBurst == 2)
        #expect(settings.tokenTTLSeconds == 99 && settings.responseTTLSeconds == 42)
        #expect(settings.certificatePolicy.principals == ["p1"] && settings.certificatePolicy.skewSeconds == 5)
        #expect(settings.caProblem == nil && settings.certificatePolicy.caKey != nil)
        #expect(settings.issuer != nil && settings.issuerProblem == nil)
        // The CA as key text instead of a path.
        let text = try h.publicLine(h.caPath)
        #expect(try h.settings(ca: text.trimmingCharacters(in: .whitespacesAndNewlines)).certificatePolicy.caKey
                == settings.certificatePolicy.caKey)
        // A missing CA file: a problem, no CA, no crash.
        let missing = try h.settings(ca: h.dir + "/nope.pub")
        #expect(missing.caProblem?.reason == .unreadableFile)
        #expect(missing.certificatePolicy.caKey == nil)
    }
}

/// The fingerprint recipe of docs/onboarding.md gives what the kernel computes.
@Suite("Fingerprint")
struct FingerprintTests {
    @Test func documentedShellRecipeMatches() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let key = try h.makeKey("p")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cut -d' ' -f2 '\(key).pub' | base64 -d | openssl dgst -sha3-512 -binary | base64 -w0"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let cert = try h.certify(key)
        #expect(text.count == 88)
        #expect(KeyFingerprint.of(pubkey: cert) == text)
        // Comment and trailing whitespace do not matter.
        let parts = cert.split(separator: " ")
        #expect(KeyFingerprint.of(pubkey: "\(parts[0]) \(parts[1])") == text)
        #expect(KeyFingerprint.of(pubkey: "\(parts[0])\t\(parts[1]) other comment\r\n") == text)
    }

    @Test func garbageIsHashedAsBytes() {
        let garbage: [UInt8] = [0xFF, 0x00, 0x41]
        #expect(KeyFingerprint.of(pubkey: garbage) == Base64.standardEncode(Digest.sha3_512.hash(garbage)))
        #expect(KeyFingerprint.of(pubkey: "ssh-ed25519-cert-v01@openssh.com AAAA") == Base64.standardEncode(Digest.sha3_512.hash(Array("ssh-ed25519-cert-v01@openssh.com AAAA".utf8))))
    }
}
