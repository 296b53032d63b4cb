import Foundation
@testable import KernelOnboarding
import KernelTestSupport
import Logging
import Testing

/// Structured logs: one `registration` record per decision with its reason, fingerprint and key
/// id; tokens never logged.
@Suite("OnboardingLogs")
struct LoggingTests {
    @Test func registrationDecisionsAreLoggedWithReasonAndKeyID() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let logs = CapturedLogs()
        let settings = try h.settings()
        let context = try h.context(settings: settings, logger: logs.logger())
        let handler = RegistrationHandler(settings: settings)
        let key = try h.makeKey("p")
        let expired = ProducerIdentity(keyPath: key, cert: try h.certify(key, id: "acme-expired-1", validity: "-2d:-1d"))
        handler.handle(OnboardingHarness.message(try OnboardingHarness.signedFields(expired, payload: "{}")), context: context)
        let refusal = try #require(logs.all.last)
        #expect(refusal.level == .warning)
        #expect(refusal.metadata["event"] == "registration")
        #expect(refusal.metadata["status"] == "invalid_cert")
        #expect(refusal.metadata["reason_code"] == "expired")
        #expect(refusal.metadata["key_id"] == "acme-expired-1")
        #expect(refusal.metadata["fingerprint"] == expired.fingerprint)

        let good = try h.producerIdentity()
        handler.handle(OnboardingHarness.message(try OnboardingHarness.signedFields(good, payload: #"{"producer_hint":"x"}"#)),
                       context: context)
        let pending = try #require(logs.all.last)
        #expect(pending.level == .info)
        #expect(pending.metadata["status"] == "pending")
        #expect(pending.metadata["action"] == "register")
        #expect(pending.metadata["producer_id"] != nil)
        #expect(pending.metadata["responded"] == "false")
    }

    @Test func tokensAreNeverLogged() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let logs = CapturedLogs()
        let settings = try h.settings()
        let context = try h.context(settings: settings, logger: logs.logger())
        let handler = TokenExchangeHandler(settings: settings)
        let (producer, pid) = try h.approvedProducer()
        handler.handle(OnboardingHarness.message(try OnboardingHarness.signedFields(producer, payload: "{}")), context: context)
        let old = try h.mintToken(for: pid)
        handler.handle(OnboardingHarness.message([("token", old.token)]), context: context)
        _ = try h.pg.query("INSERT INTO revoked_tokens (jti) VALUES ($1)", [old.jti])
        handler.handle(OnboardingHarness.message([("token", old.token)]), context: context)
        let issued = try h.responses("token:resp:" + pid).compactMap { $0["token"] }
        #expect(issued.count == 2)
        let text = logs.all.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        for token in issued + [old.token] {
            #expect(!text.contains(token))
            #expect(!text.contains(String(token.split(separator: ".")[2])))
        }
        #expect(logs.all.filter { $0.metadata["event"] == "token" && $0.metadata["jti"] != nil }.count == 2)
        #expect(logs.all.last?.metadata["reason_code"] == "token_revoked")
    }

    @Test func unusableCAIsLoggedOnceAtStart() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let logs = CapturedLogs()
        let settings = try h.settings(ca: "/nonexistent/ca.pub")
        let service = OnboardingService(settings: settings, handlers: OnboardingService.standardHandlers(settings: settings),
                                        logger: logs.logger())
        try service.start()
        service.stop()
        let errors = logs.all.filter { $0.level == .error && $0.metadata["reason_code"] == "unreadable_file" }
        #expect(errors.count == 1)
    }

    @Test func pendingRegistrationThroughTheServiceGetsNoResponse() throws {
        let h = try OnboardingHarness()
        defer { h.tearDown() }
        let settings = try h.settings()
        let service = try h.startService(settings: settings, handlers: [RegistrationHandler(settings: settings)])
        defer { service.stop() }
        let producer = try h.producerIdentity()
        try h.insertKey(producer, status: "pending")
        let fields = try OnboardingHarness.signedFields(producer, payload: "{}")
        try h.send("register", fields)
        let nonce = RegistrationTests.nonce(of: fields)
        #expect(h.waitUntil { try h.auditStatus(producer.fingerprint, nonce) == "pending" })
        #expect(h.waitUntil { try h.pendingCount("register") == 0 })
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try h.responses("register:resp:" + nonce).isEmpty)
        #expect(try h.ttl("reg:nonce:\(producer.fingerprint):\(nonce)") > 0)
    }
}
