import Foundation
import KernelAuth
import KernelConfig
import KernelCore
import KernelEvents
import KernelSSH
import Testing

/// A deregistration (control stream) or a token revocation (admin API) takes effect on the
/// answering kernel's own ingest before it answers, and on every other kernel within 1 s
/// (docs/onboarding.md "Deregistration", docs/admin.md "POST /auth/revoke"): an event XADDed
/// after the answer is dead-lettered, never stored.
@Suite("Deregister and revoke take effect at once", .serialized)
struct ImmediateRevocationTests {
    static let good = #"{"venue":"XNAS","symbol":"AAPL","price":"1.5","size":"1"}"#
    static let adminPrincipal = "kernel-admin"

    /// With one event stored before, publishes `count` events (`after-0`…) right away and waits
    /// until each is either stored or dead-lettered; returns how many of them were stored.
    static func publishAfterTheAnswer(_ h: IngestHarness, subject: EventUUID, token: String, count: Int) throws -> Int {
        for i in 0..<count {
            try h.publish(payload: IngestHarness.envelope(subject: subject, payload: good), token: token, id: "after-\(i)")
        }
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") + h.deadLetters().count == 1 + count },
                "every entry is either stored or dead-lettered")
        return try h.count("SELECT count(*) FROM md_trade") - 1
    }

    @Test func anEventPublishedRightAfterDeregisteredIsDeadLettered() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        try ProducerExampleTests.makeProducerIdentity(h, name: "leaver")
        let daemon = try h.startDaemon()
        defer { daemon.stop() }
        let producer = try Self.registerAndApprove(h)
        let (subject, _) = try h.subject(family: "trade")
        try h.bind(producer, subject)
        let token = try h.token(for: producer)
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: Self.good), token: token, id: "before")
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 }, "the producer's events land while it is enabled")

        let answer = try Self.request(h, action: "deregister")
        #expect(answer["status"] == "deregistered", "\(answer)")
        // Right after the answer, as a producer that keeps publishing would.
        let after = 5
        let storedAfter = try Self.publishAfterTheAnswer(h, subject: subject, token: token, count: after)
        let letters = try h.deadLetters()
        #expect(letters.count == after && storedAfter == 0, "\(storedAfter) of \(after) events published after the answer were stored")
        for letter in letters {
            #expect(letter.reason == "producer_disabled", "\(letter.id): \(letter.reason) \(letter.detail)")
        }

        // A registration of the approved key ends the deregistration, as promptly.
        let again = try Self.request(h, action: nil)
        #expect(again["status"] == "approved", "\(again)")
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: Self.good), token: token, id: "re-enabled")
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") + h.deadLetters().count == 2 + after },
                "the entry is either stored or dead-lettered")
        let last = try h.deadLetters().last.map { "\($0.id): \($0.reason)" } ?? "none"
        #expect(try h.count("SELECT count(*) FROM md_trade") == 2, "the re-enabled producer's event is stored (last dead letter: \(last))")
    }

    @Test func anEventPublishedRightAfterTheRevokeAnswerIsDeadLettered() throws {
        guard let binary = Self.kernelBinaryOrIssue() else { return }
        let h = try IngestHarness()
        defer { h.tearDown() }
        let (_, subject, _, token) = try h.boundProducer()
        let daemon = try Self.startKernelWithAdminCA(h)
        defer { daemon.stop() }
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: Self.good), token: token, id: "before")
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 }, "the token works (and is cached)")

        try Self.revoke(h, binary: binary, port: daemon.adminPort!, jti: try jtiOf(token, h))
        let after = 5
        let storedAfter = try Self.publishAfterTheAnswer(h, subject: subject, token: token, count: after)
        let letters = try h.deadLetters()
        #expect(letters.count == after && storedAfter == 0, "\(storedAfter) of \(after) events published after the answer were stored")
        for letter in letters {
            #expect(letter.reason == "unauthenticated" && letter.detail == "token_revoked", "\(letter.id): \(letter.reason) \(letter.detail)")
        }
    }

    /// `auth.revocation_check_seconds: 0` re-reads Postgres before every chunk: a producer
    /// disabled by hand in SQL (no kernel involved, no notification) is refused from the next entry.
    @Test func revocationCheckSecondsZeroSeesAnSQLChangeAtTheNextEntry() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let (producer, subject, _, token) = try h.boundProducer()
        let daemon = try Self.startKernelWithAdminCA(h, checkSeconds: 0)
        defer { daemon.stop() }
        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: Self.good), token: token, id: "before")
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 }, "the producer's events land while it is enabled")

        _ = try h.pg.query("UPDATE producers SET disabled_at = now() WHERE producer_id = $1::uuid", [producer.description])
        let after = 3
        let storedAfter = try Self.publishAfterTheAnswer(h, subject: subject, token: token, count: after)
        #expect(storedAfter == 0, "\(storedAfter) of \(after) events published after the SQL change were stored")
        for letter in try h.deadLetters() { #expect(letter.reason == "producer_disabled", "\(letter.id): \(letter.reason)") }
    }

    /// Kernel A (in process) answers the revoke; kernel B (a `kernel run` child reading its own
    /// stream) learns it through the notification: with the fallback refresh at 30 s, only the
    /// notification can make B refuse within 1 s.
    @Test func anotherKernelRefusesWithinOneSecond() throws {
        guard let binary = Self.kernelBinaryOrIssue() else { return }
        let h = try IngestHarness()
        defer { h.tearDown() }
        let (_, subject, _, token) = try h.boundProducer()
        let daemon = try Self.startKernelWithAdminCA(h, consumer: "kernel-a", checkSeconds: 30)
        defer { daemon.stop() }
        let yamlB = try Self.yaml(h, stream: "events-b", consumer: "kernel-b", name: "b", checkSeconds: 30)
        let b = try h.startProcess(yaml: yamlB)
        defer {
            b.terminate()
            b.waitUntilExit()
        }
        let streamB = h.prefix + "events-b"
        func publishB(_ id: String) throws {
            try h.redis.command(["XADD", streamB, "*", "payload", IngestHarness.envelope(subject: subject, payload: Self.good),
                                 "token", token, "id", id])
        }
        func refusedByB() throws -> [String: String] { try Self.deadLetters(h, stream: "events-b") }
        try publishB("warm")
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") == 1 },
                "kernel B runs and accepts the token: \(String(describing: try? String(contentsOfFile: h.dir + "/kernel.stderr", encoding: .utf8)))")

        try Self.revoke(h, binary: binary, port: daemon.adminPort!, jti: try jtiOf(token, h))
        let answered = Date()
        var offsets: [String: Double] = [:]
        var n = 0
        while Date().timeIntervalSince(answered) < 2.0 {
            let id = "b-\(n)"
            offsets[id] = Date().timeIntervalSince(answered)
            try publishB(id)
            n += 1
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") - 1 + refusedByB().count == n },
                "every entry is either stored or dead-lettered")
        let refused = try refusedByB()
        let late = offsets.filter { $0.value >= 1.0 && refused[$0.key] == nil }.map(\.key).sorted()
        #expect(late.isEmpty, "kernel B stored entries published 1 s or more after the answer: \(late)")
        for (id, why) in refused { #expect(why == "unauthenticated token_revoked", "\(id): \(why)") }
        let firstRefusal = offsets.filter { refused[$0.key] != nil }.map(\.value).min()
        #expect(firstRefusal != nil && firstRefusal! < 1.0, "first refusal at \(String(describing: firstRefusal)) s")
        let logB = (try? String(contentsOfFile: h.dir + "/kernel-b.log", encoding: .utf8)) ?? ""
        #expect(logB.contains("revocation notification"), "kernel B learned it from the notification")
    }

    /// Two `kernel run` children, each reading its own stream, share the control streams: either
    /// may handle the deregistration. The one that does refuses at once; the other, with its
    /// fallback refresh at 30 s, must refuse within 1 s through the notification.
    @Test func anotherKernelRefusesADeregisteredProducerWithinOneSecond() throws {
        guard Self.kernelBinaryOrIssue() != nil else { return }
        let h = try IngestHarness()
        defer { h.tearDown() }
        try Self.makeAdminIdentity(h)
        try ProducerExampleTests.makeProducerIdentity(h, name: "leaver")
        var kernels: [Process] = []
        defer {
            for p in kernels { p.terminate() }
            for p in kernels { p.waitUntilExit() }
        }
        for name in ["a", "b"] {
            kernels.append(try Self.startKernel(h, name: name, yaml: try Self.yaml(h, stream: "events-\(name)", consumer: "kernel-\(name)",
                                                                                   name: name, checkSeconds: 30)))
        }
        let producer = try Self.registerAndApprove(h)
        let (subject, _) = try h.subject(family: "trade")
        try h.bind(producer, subject)
        let token = try h.token(for: producer)
        let event = { IngestHarness.envelope(subject: subject, payload: Self.good) }
        for name in ["a", "b"] {
            try h.redis.command(["XADD", h.prefix + "events-\(name)", "*", "payload", event(), "token", token, "id", "warm"])
        }
        #expect(h.waitUntil(timeout: 60) { try h.count("SELECT count(*) FROM md_trade") == 2 }, "both kernels run and accept the token")

        let answer = try Self.request(h, action: "deregister")
        #expect(answer["status"] == "deregistered", "\(answer)")
        let answered = Date()
        var offsets: [String: Double] = [:]
        var n = 0
        while Date().timeIntervalSince(answered) < 2.0 {
            for name in ["a", "b"] {
                let id = "\(name)-\(n)"
                offsets[id] = Date().timeIntervalSince(answered)
                try h.redis.command(["XADD", h.prefix + "events-\(name)", "*", "payload", event(), "token", token, "id", id])
            }
            n += 1
            Thread.sleep(forTimeInterval: 0.05)
        }
        func refused() throws -> [String: String] {
            try Self.deadLetters(h, stream: "events-a").merging(try Self.deadLetters(h, stream: "events-b")) { a, _ in a }
        }
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") - 2 + refused().count == 2 * n },
                "every entry is either stored or dead-lettered")
        let letters = try refused()
        for (id, why) in letters { #expect(why.hasPrefix("producer_disabled "), "\(id): \(why)") }
        let logs = ["a", "b"].map { (try? String(contentsOfFile: h.dir + "/kernel-\($0).log", encoding: .utf8)) ?? "" }
        let handler = logs.firstIndex { $0.contains("registration deregistered") }
        #expect(handler != nil, "one kernel logged the deregistration")
        guard let handler else { return }
        let (mine, other) = handler == 0 ? ("a", "b") : ("b", "a")
        let storedByHandler = offsets.keys.filter { $0.hasPrefix(mine + "-") && letters[$0] == nil }.sorted()
        #expect(storedByHandler.isEmpty, "kernel \(mine) answered, then stored \(storedByHandler)")
        let late = offsets.filter { $0.key.hasPrefix(other + "-") && $0.value >= 1.0 && letters[$0.key] == nil }.map(\.key).sorted()
        #expect(late.isEmpty, "kernel \(other) stored entries published 1 s or more after the answer: \(late)")
        let firstRefusal = offsets.filter { $0.key.hasPrefix(other + "-") && letters[$0.key] != nil }.map(\.value).min()
        #expect(firstRefusal != nil && firstRefusal! < 1.0, "kernel \(other): first refusal at \(String(describing: firstRefusal)) s")
        #expect(logs[1 - handler].contains("revocation notification"), "kernel \(other) learned it from the notification")
    }

    // MARK: helpers

    /// `kernel run` on `yaml` (written to its own file), stderr to `kernel-<name>.stderr`.
    static func startKernel(_ h: IngestHarness, name: String, yaml: String) throws -> Process {
        let path = h.dir + "/kernel-\(name).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try IngestHarness.startKernel(configPath: path, stderrPath: h.dir + "/kernel-\(name).stderr")
    }

    /// The dead letters of `P + stream`, by the entry's `id` field: "reason detail".
    static func deadLetters(_ h: IngestHarness, stream: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for item in try h.redis.command(["XRANGE", h.prefix + stream + ":dlq", "-", "+"]).array ?? [] {
            let fields = item.array?.last?.array?.compactMap(\.text) ?? []
            var d: [String: String] = [:]
            var i = 0
            while i + 1 < fields.count { d[fields[i]] = fields[i + 1]; i += 2 }
            out[d["id"] ?? ""] = (d["reason"] ?? "") + " " + (d["detail"] ?? "")
        }
        return out
    }

    static func kernelBinaryOrIssue() -> String? {
        guard FileManager.default.isExecutableFile(atPath: IngestHarness.kernelBinary) else {
            Issue.record("\(IngestHarness.kernelBinary) is missing: run `swift build` (or set DK_KERNEL_BIN)")
            return nil
        }
        return IngestHarness.kernelBinary
    }

    /// Makes the admin identity and starts a kernel in this process on `yaml(h, consumer:checkSeconds:)`.
    static func startKernelWithAdminCA(_ h: IngestHarness, consumer: String = "kernel-test", checkSeconds: Int? = nil) throws -> Daemon {
        try makeAdminIdentity(h)
        let daemon = Daemon(config: try KernelConfig.parse(yaml: yaml(h, consumer: consumer, checkSeconds: checkSeconds)), logger: h.logger)
        try daemon.start()
        return daemon
    }

    /// An admin CA and an admin key certified by it for `adminPrincipal`, under `h.dir`.
    static func makeAdminIdentity(_ h: IngestHarness) throws {
        try h.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "admin-ca", "-f", h.dir + "/admin_ca"])
        try h.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "admin", "-f", h.dir + "/admin"])
        try h.run("/usr/bin/ssh-keygen", ["-q", "-s", h.dir + "/admin_ca", "-I", "admin-id", "-n", adminPrincipal, "-V", "-5m:+1h",
                                          h.dir + "/admin.pub"])
    }

    /// The harness config with the admin CA, for consumer `consumer` on `stream`; `name` gives a
    /// second kernel its own log and spill directory; `checkSeconds` sets
    /// `auth.revocation_check_seconds` (the fallback refresh).
    static func yaml(_ h: IngestHarness, stream: String = "events", consumer: String = "kernel-test", name: String? = nil,
                     checkSeconds: Int? = nil) throws -> String {
        var text = h.yaml(consumer: consumer)
        func replace(_ old: String, _ new: String) throws {
            guard text.contains(old) else { throw HarnessError(message: "harness config no longer contains \(old)") }
            text = text.replacingOccurrences(of: old, with: new)
        }
        var auth = "producer_ssh_ca: \"\(h.producerSSHCA)\"\n  admin_ssh_ca: \"\(h.dir)/admin_ca.pub\"\n  admin_principal: \"\(adminPrincipal)\""
        if let checkSeconds { auth += "\n  revocation_check_seconds: \(checkSeconds)" }
        try replace("producer_ssh_ca: \"\(h.producerSSHCA)\"", auth)
        try replace("stream: \"events\"", "stream: \"\(stream)\"")
        if let name {
            try replace("output: \"\(h.dir)/kernel.log\"", "output: \"\(h.dir)/kernel-\(name).log\"")
            try replace("dir: \"\(h.dir)/spill\"", "dir: \"\(h.dir)/spill-\(name)\"")
        }
        return text
    }

    /// `kernel admin revoke` against the kernel on `port`: returns once the kernel answered 204.
    static func revoke(_ h: IngestHarness, binary: String, port: Int, jti: String) throws {
        try h.run(binary, ["admin", "revoke", "--url", "http://127.0.0.1:\(port)", "--key", h.dir + "/admin",
                           "--jti", jti, "--reason", "test"])
    }

    /// Registers the producer key made by `makeProducerIdentity` over `P+register`, approves it
    /// as an admin would, and returns the producer id.
    static func registerAndApprove(_ h: IngestHarness) throws -> EventUUID {
        try send(h, action: nil, payload: #"{"producer_hint":"leaver"}"#)
        guard let approved = try ProducerExampleTests.approveWhenPending(h, output: { "" }),
              let producer = EventUUID(approved.producerID) else {
            throw HarnessError(message: "the registration did not reach the kernel")
        }
        return producer
    }

    /// A signed request on `P+register` (`action` deregister, or nil for a registration); waits
    /// for the kernel's answer on `P+register:resp:<nonce>` and returns its fields.
    static func request(_ h: IngestHarness, action: String?) throws -> [String: String] {
        let nonce = try send(h, action: action, payload: "{}")
        let stream = h.prefix + "register:resp:" + nonce
        // XREAD BLOCK returns as soon as the kernel XADDs the answer.
        let reply = try h.redis.command(["XREAD", "COUNT", "1", "BLOCK", "4000", "STREAMS", stream, "0-0"])
        let fields = reply.array?.first?.array?.last?.array?.first?.array?.last?.array?.compactMap(\.text) ?? []
        var out: [String: String] = [:]
        var i = 0
        while i + 1 < fields.count { out[fields[i]] = fields[i + 1]; i += 2 }
        return out
    }

    @discardableResult
    static func send(_ h: IngestHarness, action: String?, payload: String) throws -> String {
        let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let key = try Ed25519PrivateKey(openSSHFile: h.dir + "/producer")
        let signature = Data(key.sign(ProducerSignature.signingBytes(payload: Array(payload.utf8), nonce: nonce))).base64EncodedString()
        let cert = try String(contentsOfFile: h.dir + "/producer-cert.pub", encoding: .utf8)
        var args = ["XADD", h.prefix + "register", "*", "pubkey", cert, "payload", payload, "nonce", nonce, "sig", signature]
        if let action { args += ["action", action] }
        try h.redis.command(args)
        return nonce
    }
}
