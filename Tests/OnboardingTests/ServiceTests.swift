import Foundation
@testable import KernelOnboarding
import KernelRedis
import Testing

/// The real service: consumer threads on Redis, groups, acknowledgements, restarts, hostile
/// messages.
@Suite("OnboardingService")
struct ServiceTests {
    @Test func registrationAndExchangeEndToEnd() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let (producer, pid) = try h.approvedProducer()
        let metrics = OnboardingMetrics()
        let service = try h.startService(settings: settings, handlers: OnboardingService.standardHandlers(settings: settings),
                                         metrics: metrics)
        defer { service.stop() }
        let reg = try OnboardingHarness.signedFields(producer, payload: #"{"producer_hint":"e2e"}"#)
        try h.send("register", reg)
        let answer = try h.waitForResponses("register:resp:" + RegistrationTests.nonce(of: reg))
        #expect(answer == [["fingerprint": producer.fingerprint, "producer_id": pid, "status": "approved"]])
        try h.send("token:exchange", try OnboardingHarness.signedFields(producer, payload: "{}"))
        let token = try h.waitForResponses("token:resp:" + pid)
        #expect(token.first?["producer_id"] == pid)
        // Renewal with the token just issued.
        try h.send("token:exchange", [("token", token.first?["token"] ?? "")])
        #expect(try h.waitForResponses("token:resp:" + pid, count: 2).count == 2)
        // Everything acknowledged on the stream it came from.
        #expect(h.waitUntil { try h.pendingCount("register") == 0 && h.pendingCount("token:exchange") == 0 })
        #expect(metrics.outcomesByStatus["approved"] == 1)
        #expect(metrics.tokensIssued.load(ordering: .relaxed) == 2)
    }

    @Test func messagesSentBeforeTheFirstStartAreProcessed() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let (producer, pid) = try h.approvedProducer()
        let reg = try OnboardingHarness.signedFields(producer, payload: "{}")
        try h.send("register", reg)
        let service = try h.startService(settings: settings, handlers: [RegistrationHandler(settings: settings)])
        defer { service.stop() }
        #expect(try h.waitForResponses("register:resp:" + RegistrationTests.nonce(of: reg)).first?["producer_id"] == pid)
    }

    @Test func ownPendingMessagesAreReadAfterARestart() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let (producer, _) = try h.approvedProducer()
        let stream = h.prefix + "register"
        _ = try h.redis.command(["XGROUP", "CREATE", stream, "kernel", "0-0", "MKSTREAM"])
        let reg = try OnboardingHarness.signedFields(producer, payload: "{}")
        try h.send("register", reg)
        // A previous run of this consumer read the message and died before acknowledging it.
        _ = try h.redis.command(["XREADGROUP", "GROUP", "kernel", "kernel-test-register", "COUNT", "10", "STREAMS", stream, ">"])
        #expect(try h.pendingCount("register") == 1)
        let service = try h.startService(settings: settings, handlers: [RegistrationHandler(settings: settings)])
        defer { service.stop() }
        #expect(try h.waitForResponses("register:resp:" + RegistrationTests.nonce(of: reg)).count == 1)
        #expect(h.waitUntil { try h.pendingCount("register") == 0 })
    }

    @Test func stopIsPromptAndRestartable() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let service = try h.startService(settings: settings, handlers: OnboardingService.standardHandlers(settings: settings))
        Thread.sleep(forTimeInterval: 0.3)
        let started = Date()
        service.stop()
        #expect(Date().timeIntervalSince(started) < 2)
        // Groups exist after start (readiness implies consumers are ready).
        let groups = try h.redis.command(["XINFO", "GROUPS", h.prefix + "token:exchange"]).array ?? []
        #expect(groups.count == 1)
        try service.start()
        service.stop()
    }

    @Test func unreachableRedisFailsStart() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        var settings = try h.settings()
        settings.redis.endpoint = RedisConnection.Endpoint(host: "127.0.0.1", port: 1)
        let service = OnboardingService(settings: settings, handlers: OnboardingService.standardHandlers(settings: settings),
                                        logger: h.logger)
        #expect(throws: RedisError.self) { try service.start() }
        service.stop()
    }

    /// Hostile control messages never crash the consumer and are all acknowledged; a good
    /// message after them is still answered.
    @Test func hostileMessagesAreAcknowledgedAndHarmless() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let (producer, pid) = try h.approvedProducer()
        let service = try h.startService(settings: settings, handlers: OnboardingService.standardHandlers(settings: settings))
        defer { service.stop() }
        let huge = [UInt8](repeating: UInt8(ascii: "A"), count: 2 << 20)
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 200_000)
        let deepObject = Array(String(repeating: #"{"a":"#, count: 50_000).utf8)
        let invalidUTF8: [UInt8] = [0xC3, 0x28, 0xFF, 0xFE, 0x00, 0xED, 0xA0, 0x80]
        let goodSig = try OnboardingHarness.sign(payload: "{}", nonce: "n", keyPath: producer.keyPath)
        let certBytes = Array(producer.cert.utf8)
        let hostile: [[(String, [UInt8])]] = [
            [],
            [("pubkey", certBytes)],
            [("pubkey", huge), ("payload", huge), ("nonce", huge), ("sig", huge)],
            [("pubkey", invalidUTF8), ("payload", invalidUTF8), ("nonce", invalidUTF8), ("sig", invalidUTF8)],
            [("pubkey", certBytes), ("payload", deep), ("nonce", Array("n1".utf8)), ("sig", Array(goodSig.utf8))],
            [("pubkey", certBytes), ("payload", deepObject), ("nonce", Array("n2".utf8)), ("sig", Array(goodSig.utf8))],
            [("pubkey", certBytes), ("payload", Array("{}".utf8)), ("nonce", invalidUTF8), ("sig", Array(goodSig.utf8)),
             ("action", Array("deregister".utf8))],
            [("pubkey", Array("ssh-ed25519-cert-v01@openssh.com AAAA".utf8)), ("payload", Array("{}".utf8)),
             ("nonce", Array("n3".utf8)), ("sig", Array(goodSig.utf8))],
            [("token", huge)],
            [("token", invalidUTF8)],
            [("token", Array("a.b.c".utf8)), ("pubkey", certBytes)],
            [("payload", Array(#"{"producer_hint":"\u0000"}"#.utf8)), ("pubkey", certBytes), ("nonce", Array("n4".utf8)),
             ("sig", Array(goodSig.utf8))],
        ]
        for fields in hostile {
            try h.sendRaw("register", fields)
            try h.sendRaw("token:exchange", fields)
        }
        let reg = try OnboardingHarness.signedFields(producer, payload: "{}")
        try h.send("register", reg)
        try h.send("token:exchange", try OnboardingHarness.signedFields(producer, payload: "{}"))
        #expect(try h.waitForResponses("register:resp:" + RegistrationTests.nonce(of: reg), timeout: 20).first?["status"] == "approved")
        #expect(try h.waitForResponses("token:resp:" + pid, timeout: 20).count == 1)
        #expect(h.waitUntil { try h.pendingCount("register") == 0 && h.pendingCount("token:exchange") == 0 })
        // The NUL-escaped payload was audited (payload copy dropped, row kept).
        #expect(try h.count("SELECT count(*) FROM producer_registrations WHERE nonce = 'n4' AND payload IS NULL") == 1)
    }
}
