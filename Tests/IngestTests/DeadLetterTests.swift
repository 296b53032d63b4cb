import Foundation
import KernelConfig
import KernelCore
import KernelEvents
import KernelPlugins
import Testing

/// Every DLQ reason of docs/protocol.md, "Ingest checks, in order", each entry acknowledged after its DLQ write, and never a token in
/// the DLQ.
@Suite("Dead letters", .serialized)
struct DeadLetterTests {
    @Test func everyRejectionReasonReachesTheDLQWithItsCode() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let producer = try h.producer()
        let (subject, _) = try h.subject(family: "trade")
        let (otherSubject, _) = try h.subject(family: "trade")
        let (unboundSubject, _) = try h.subject(family: "trade")
        try h.bind(producer, subject)
        try h.bind(producer, otherSubject)
        let noSchema = EventUUID(try h.pg.query("INSERT INTO subjects (subject_key) VALUES ('no-schema') RETURNING subject_id::text").scalar!)!
        try h.bind(producer, noSchema)
        let token = try h.token(for: producer)
        let scoped = try h.token(for: producer, subject: otherSubject)
        let expired = try h.token(for: producer, ttl: 600, issuedSecondsAgo: 7200)
        let revoked = try h.token(for: producer)
        _ = try h.pg.query("INSERT INTO revoked_tokens (jti, reason) VALUES ($1, 'test')", [try jtiOf(revoked, h)])
        let disabledProducer = try h.producer()
        try h.bind(disabledProducer, subject)
        let disabledToken = try h.token(for: disabledProducer)
        _ = try h.pg.query("UPDATE producers SET disabled_at = now() WHERE producer_id = $1::uuid", [disabledProducer.description])
        let good = #"{"venue":"XNAS","symbol":"AAPL","price":"1.5","size":"1"}"#
        let daemon = try h.startDaemon()
        defer { daemon.stop() }

        let cases: [(String, String?, String?, String)] = [
            ("too-large", IngestHarness.envelope(subject: subject, payload: #"{"pad":"\#(String(repeating: "x", count: 5000))"}"#), token, "message_too_large"),
            ("empty", nil, token, "empty_payload"),
            ("no-token", IngestHarness.envelope(subject: subject, payload: good), nil, "unauthenticated"),
            ("bad-token", IngestHarness.envelope(subject: subject, payload: good), "a.b.c.d", "unauthenticated"),
            ("expired", IngestHarness.envelope(subject: subject, payload: good), expired, "unauthenticated"),
            ("revoked", IngestHarness.envelope(subject: subject, payload: good), revoked, "unauthenticated"),
            ("disabled", IngestHarness.envelope(subject: subject, payload: good), disabledToken, "producer_disabled"),
            ("not-json", "this is not json", token, "bad_event_json"),
            ("bad-uuid", #"{"event_id":"nope","ts":"2026-01-01T00:00:00Z","subject_id":"\#(subject)","payload":{}}"#, token, "bad_event_json"),
            ("old", IngestHarness.envelope(subject: subject, payload: good, ts: Date().addingTimeInterval(-62 * 86400)), token, "ts_out_of_range"),
            ("future", IngestHarness.envelope(subject: subject, payload: good, ts: Date().addingTimeInterval(7200)), token, "ts_out_of_range"),
            ("mismatch", IngestHarness.envelope(subject: subject, payload: good), scoped, "subject_mismatch_token"),
            ("unbound", IngestHarness.envelope(subject: unboundSubject, payload: good), token, "producer_subject_forbidden"),
            ("no-schema", IngestHarness.envelope(subject: noSchema, payload: good), token, "missing_subject_schema"),
            ("bad-trade", IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"1.5","size":"-3"}"#), token, "normalize_failed"),
        ]
        for (id, payload, tok, _) in cases { try h.publish(payload: payload, token: tok, id: id) }
        #expect(h.waitUntil { try h.deadLetters().count == cases.count }, "\(String(describing: try? h.deadLetters()))")
        let letters = Dictionary(uniqueKeysWithValues: try h.deadLetters().map { ($0.id, $0) })
        for (id, payload, _, reason) in cases {
            #expect(letters[id]?.reason == reason, "\(id): \(String(describing: letters[id]))")
            #expect(letters[id]?.detail.isEmpty == false, "\(id) has a detail")
            if let payload { #expect(letters[id]?.payload == payload, "\(id): the DLQ keeps the original payload") }
        }
        #expect(letters["empty"]?.payload == "{}")
        #expect(letters["bad-trade"]?.detail.contains("size") == true, "the plugin's message: \(letters["bad-trade"]?.detail ?? "")")
        for letter in letters.values {
            for secret in [token, scoped, expired, revoked, disabledToken] {
                #expect(!letter.detail.contains(secret) && !letter.payload.contains(secret), "no token in the DLQ")
            }
        }
        #expect(h.waitUntil { try h.pendingCount() == 0 }, "every dead letter is acknowledged")
        #expect(try h.count("SELECT count(*) FROM md_trade") == 0)
        let byReason = daemon.pipeline!.metrics.deadLettersByReason
        #expect(byReason["unauthenticated"] == 4)
        #expect(daemon.pipeline!.metrics.authDeniedTotal.load(ordering: .relaxed) == 4)
    }

    /// A plugin's `normalize_batch` makes a call the host refuses, then fails the whole call with
    /// its own message: that message is the DLQ detail of every event the call fails, the refused
    /// one included, and an event it failed with `fail_event` keeps that message (docs/plugins.md,
    /// "`kp_output` and `kp_builder_api` (host → plugin, with every call; 16 and 120 bytes)").
    /// The plugin is Tests/Fixtures/c/testplugin.c built with -DWITH_BATCH, in a private plugins
    /// directory; the events are queued before the kernel starts, so one read brings them all and
    /// the plugin gets them in one call. In the kernel's process, and in a plugin host process
    /// (the message then crosses the host protocol).
    @Test(arguments: ["in_process", "process"])
    func theMessageOfAFailedBatchCallIsTheDetailOfEveryEventItFails(isolation: String) throws {
        if isolation == "process" { PluginHostProcess.executablePath = IngestHarness.kernelBinary }
        let h = try IngestHarness()
        defer { h.tearDown() }
        let pluginsDir = h.dir + "/plugins"
        try FileManager.default.createDirectory(atPath: pluginsDir, withIntermediateDirectories: true)
        try h.run("/usr/bin/cc", ["-std=c11", "-shared", "-fPIC", "-I", IngestHarness.repoRoot + "/Sources/KernelPluginABI/include",
                                  "-DWITH_BATCH", "-o", pluginsDir + "/libtick.so", IngestHarness.repoRoot + "/Tests/Fixtures/c/testplugin.c"])
        let (_, subject, _, token) = try h.boundProducer(family: "tick")
        let modes = [("before", "ok"), ("own-fail", "fail"), ("refused", "bad_numeric_batch_error"), ("after", "ok")]
        for (id, mode) in modes {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"price":1,"mode":"\#(mode)"}"#), token: token, id: id)
        }
        let yaml = h.yaml().replacingOccurrences(of: "  dir: \"\(IngestHarness.pluginsDir)\"",
                                                  with: "  dir: \"\(pluginsDir)\"\n  isolation: \(isolation)")
        #expect(yaml.contains(pluginsDir))
        let daemon = Daemon(config: try KernelConfig.parse(yaml: yaml), logger: h.logger)
        try daemon.start()
        defer { daemon.stop() }

        #expect(h.waitUntil { try h.deadLetters().count == modes.count }, "\(String(describing: try? h.deadLetters()))")
        let letters = Dictionary(uniqueKeysWithValues: try h.deadLetters().map { ($0.id, $0) })
        for (id, _) in modes { #expect(letters[id]?.reason == "normalize_failed", "\(id): \(String(describing: letters[id]))") }
        #expect(letters["refused"]?.detail == "batch: the plugin's own words", "not the host's set_numeric refusal: \(String(describing: letters["refused"]))")
        #expect(letters["before"]?.detail == "batch: the plugin's own words")
        #expect(letters["after"]?.detail == "batch: the plugin's own words")
        #expect(letters["own-fail"]?.detail == "payload refused on purpose", "fail_event's message stays")
        #expect(try h.count("SELECT count(*) FROM md_tick") == 0)
    }

    @Test func revocationTakesEffectWithinTheBound() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let (producer, subject, _, token) = try h.boundProducer()
        let jti = try jtiOf(token, h)
        let daemon = try h.startDaemon()
        defer { daemon.stop() }
        let good = #"{"venue":"XNAS","symbol":"AAPL","price":"1.5","size":"1"}"#
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: good), token: token)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 }, "the token works and is cached")
        _ = try h.pg.query("INSERT INTO revoked_tokens (jti, reason) VALUES ($1, 'compromised')", [jti])
        _ = try h.pg.query("UPDATE producer_tokens SET revoked_at = now() WHERE jti = $1", [jti])
        let revokedAt = Date()
        // Publish once a second; the first refusal must come within 5 s of the revocation.
        var refused: Date?
        while refused == nil && Date().timeIntervalSince(revokedAt) < 8 {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: good), token: token)
            Thread.sleep(forTimeInterval: 0.5)
            if try h.deadLetters().contains(where: { $0.reason == "unauthenticated" && $0.detail == "token_revoked" }) { refused = Date() }
        }
        #expect(refused != nil, "revoked token refused")
        if let refused { #expect(refused.timeIntervalSince(revokedAt) <= 5.5) }
    }

    @Test func poisonMessageIsDeadLetteredAfterMaxDeliveries() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let (producer, subject, _, token) = try h.boundProducer()
        // Deliver the entry to this kernel's consumer four times without acknowledging it, as a
        // kernel crashing inside a plugin would.
        _ = try h.redis.command(["XGROUP", "CREATE", h.streamKey, "kernel", "0-0", "MKSTREAM"])
        let poisonPayload = IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"2","size":"1"}"#)
        let id = try h.publish(payload: poisonPayload, token: token, id: "poison-1")
        _ = try h.redis.command(["XREADGROUP", "GROUP", "kernel", "kernel-test", "COUNT", "10", "STREAMS", h.streamKey, ">"])
        _ = try h.redis.command(["XCLAIM", h.streamKey, "kernel", "kernel-test", "0", id, "RETRYCOUNT", "4"])
        let healthy = try h.publish(payload: IngestHarness.envelope(subject: subject, payload: #"{"venue":"XNAS","symbol":"AAPL","price":"3","size":"1"}"#), token: token)
        _ = healthy
        let daemon = try h.startDaemon(maxDeliveries: 3)
        defer { daemon.stop() }
        #expect(h.waitUntil { try h.deadLetters().count == 1 })
        let letter = try h.deadLetters().first
        #expect(letter?.reason == "poison_message")
        #expect(letter?.id == "poison-1")
        #expect(letter?.payload == poisonPayload)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 }, "the healthy entry behind it lands")
        #expect(try h.count("SELECT count(*) FROM md_trade WHERE price = 2") == 0, "the poison entry was not processed")
        #expect(h.waitUntil { try h.pendingCount() == 0 })
    }
}

/// The jti claim of a JWT (middle segment, base64url JSON).
func jtiOf(_ token: String, _ h: IngestHarness) throws -> String {
    let parts = token.split(separator: ".")
    var b64 = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while b64.count % 4 != 0 { b64 += "=" }
    let data = Data(base64Encoded: b64)!
    let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    return object["jti"] as! String
}
