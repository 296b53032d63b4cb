import Foundation
import KernelCore
import Testing

/// The example producers (Sources/ProducerExample, examples/python) against a real in-process
/// kernel: each registers its key, waits while the test approves it the way an admin would
/// (docs/admin.md, "POST /auth/review"), gets a token, registers its subjects and publishes; every event must land in the
/// typed tables with nothing dead-lettered.
@Suite("Example producers")
struct ProducerExampleTests {
    static let pythonDir = IngestHarness.repoRoot + "/examples/python"
    static var producerBinary: String {
        ProcessInfo.processInfo.environment["DK_PRODUCER_BIN"] ?? IngestHarness.repoRoot + "/.build/debug/producer-example"
    }
    static let typedTables = ["md_trade", "md_quote", "md_book", "md_bar"]

    @Test func pythonCanonicalJSONMatchesEveryVector() throws {
        let (status, output) = try Self.runToEnd("/usr/bin/env", ["python3", "-m", "unittest", "-v", "test_canonical.py"],
                                                 directory: Self.pythonDir)
        #expect(status == 0, "python3 -m unittest test_canonical.py failed:\n\(output)")
        #expect(output.contains("test_every_vector") && output.contains("\nOK"), "\(output)")
    }

    @Test func swiftProducerOnboardsPublishesAndStopsOnSIGINT() throws {
        guard let binary = Self.producerBinaryOrIssue() else { return }
        try Self.runScenario(name: "swift-example", tool: binary, extraArgs: ["--rate", "200"], interrupt: true)
    }

    @Test func pythonProducerOnboardsAndPublishes() throws {
        guard try Self.pythonRequirementsPresent(skipping: "pythonProducerOnboardsAndPublishes") else { return }
        try Self.runScenario(name: "python-example", tool: "/usr/bin/env",
                             toolArgs: ["python3", Self.pythonDir + "/producer.py"],
                             extraArgs: ["--rate", "200", "--seconds", "4"], interrupt: false)
    }

    /// The Python package's own tests (examples/python/tests): each starts the `kernel` binary
    /// with a database and key prefix of its own, onboards with a certificate from the CA and with
    /// a given one, approves with `kernel admin`, lives through renewals of 6-second tokens,
    /// registers subjects, publishes and checks Postgres; and runs the program of
    /// docs/producers.md, "The Python package", as written; and installs the package with pip.
    @Test func pythonPackageAgainstTheKernelBinary() throws {
        guard try Self.pythonRequirementsPresent(skipping: "pythonPackageAgainstTheKernelBinary") else { return }
        guard FileManager.default.isExecutableFile(atPath: IngestHarness.kernelBinary) else {
            Issue.record("\(IngestHarness.kernelBinary) is missing: run `swift build --product kernel` (or set DK_KERNEL_BIN)")
            return
        }
        // The harness's services, whatever this process's environment says.
        let (status, output) = try Self.runToEnd("/usr/bin/env", [
            "DK_KERNEL_BIN=\(IngestHarness.kernelBinary)", "DK_TEST_PLUGINS_DIR=\(IngestHarness.pluginsDir)",
            "KERNEL_PG_DSN=\(IngestHarness.adminDSN)", "KERNEL_REDIS_ADDR=\(IngestHarness.redisAddr)",
            "python3", "-m", "unittest", "discover", "-v", "-s", "tests",
        ], directory: Self.pythonDir)
        #expect(status == 0, "python3 -m unittest discover -s tests failed:\n\(output)")
        // Ran (status 0 says they passed), not skipped: test_kernel.py skips nothing.
        #expect(output.contains("test_the_program_in_docs_producers_md_runs_as_written")
                && output.contains("test_csr_to_the_ca_approval_renewal_subjects_publishing") && output.contains("\nOK"),
                "\(output)")
    }

    // MARK: shared steps (also used by ShardedIngestTests)

    /// Whether python3 has what examples/python needs (its pyproject.toml: redis-py with
    /// redis.cluster, cryptography ≥ 40 for OpenSSH certificates; `.ci/services deps` installs
    /// them). Where it has not, the test is skipped with the reason printed rather than failed.
    static func pythonRequirementsPresent(skipping test: String) throws -> Bool {
        let probe = "import redis, redis.cluster; from cryptography.hazmat.primitives.serialization import SSHCertificateBuilder"
        let (status, output) = try runToEnd("/usr/bin/env", ["python3", "-c", probe], directory: pythonDir)
        if status != 0 {
            print("SKIPPED \(test): python3 lacks redis or cryptography >= 40 (pip install ./examples/python): \(output)")
        }
        return status == 0
    }

    /// The producer-example binary, or nil after recording that it is missing.
    static func producerBinaryOrIssue() -> String? {
        guard FileManager.default.isExecutableFile(atPath: producerBinary) else {
            Issue.record("\(producerBinary) is missing: run `swift build --product producer-example` (or set DK_PRODUCER_BIN)")
            return nil
        }
        return producerBinary
    }

    /// A producer CA and a key `name` certified by it, under `h.dir`; the kernel trusts the CA.
    static func makeProducerIdentity(_ h: IngestHarness, name: String) throws {
        try h.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "producer-ca", "-f", h.dir + "/producer_ca"])
        try h.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", h.dir + "/producer"])
        try h.run("/usr/bin/ssh-keygen", ["-q", "-s", h.dir + "/producer_ca", "-I", name, "-n", "producer", "-V", "-5m:+1h",
                                          h.dir + "/producer.pub"])
        h.producerSSHCA = h.dir + "/producer_ca.pub"
    }

    /// The admin's part: waits for the producer's pending key, approves it and notifies the
    /// waiting producer. Returns the key's fingerprint and the producer id (nil, with the
    /// expectation recorded, if no key came).
    static func approveWhenPending(_ h: IngestHarness, output: () -> String) throws -> (fingerprint: String, producerID: String)? {
        guard let (fingerprint, producerID) = pendingKey(h, output: output) else { return nil }
        try approve(h, fingerprint: fingerprint, producerID: producerID)
        return (fingerprint, producerID)
    }

    /// Waits for the producer's pending key (up to 30 s); nil, with the expectation recorded, if
    /// no key came.
    static func pendingKey(_ h: IngestHarness, output: () -> String, route: String = "")
        -> (fingerprint: String, producerID: String)? {
        var pending: [String?] = []
        #expect(h.waitUntil(timeout: 30) {
            pending = try h.pg.query("SELECT fingerprint, producer_id::text FROM producer_keys WHERE status = 'pending'").rows.first ?? []
            return pending.count == 2
        }, "the registration reached the kernel\(route): \(output())")
        guard pending.count == 2, let fingerprint = pending[0], let producerID = pending[1] else { return nil }
        return (fingerprint, producerID)
    }

    // MARK: scenario

    /// Starts a kernel with a producer CA made by ssh-keygen, runs the producer, approves its key,
    /// and checks what landed.
    static func runScenario(name: String, tool: String, toolArgs: [String] = [], extraArgs: [String], interrupt: Bool) throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        try makeProducerIdentity(h, name: name)
        let daemon = try h.startDaemon()
        defer { daemon.stop() }

        let outputPath = h.dir + "/producer.out"
        // The renewal margin just under the 1 h token lifetime makes the producer renew within seconds.
        let process = try start(tool, toolArgs + ["--redis", IngestHarness.redisAddr, "--prefix", h.prefix, "--key", h.dir + "/producer",
                                                  "--name", name, "--renew-margin", "3597"] + extraArgs, output: outputPath)
        defer { if process.isRunning { process.terminate() } }
        func output() -> String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

        // The admin's part: wait for the pending key, approve it, notify the waiting producer.
        guard let (fingerprint, producerID) = try approveWhenPending(h, output: output) else { return }
        #expect(try h.count("SELECT count(*) FROM producers WHERE producer_id = '\(producerID)' AND name = '\(name)'") == 1)

        let perTable = typedTables.map { "(SELECT count(DISTINCT event_id) FROM \($0) WHERE producer_id = '\(producerID)')" }
        let eventsLanded = landedQuery(producerID: producerID)
        let everyFamily = "SELECT " + perTable.map { "(\($0) > 0)::int" }.joined(separator: " + ")
        #expect(h.waitUntil(timeout: 60) { try h.count(everyFamily) == typedTables.count },
                "events of every family landed: \(output())")
        if interrupt {
            Thread.sleep(forTimeInterval: 2.5)
            process.interrupt()
        }
        let exited = h.waitUntil(timeout: 30) { !process.isRunning }
        #expect(exited, "the producer exits\(interrupt ? " on SIGINT" : " after --seconds")")
        guard exited else { return }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "clean exit: \(output())")

        let text = output()
        #expect(text.contains("approved producer_id=\(producerID)"), "\(text)")
        #expect(text.contains("fingerprint \(fingerprint.prefix(16))"), "the producer computes the kernel's fingerprint: \(text)")
        let published = publishedCount(text)
        #expect(published > 0, "the producer reports its count: \(text)")
        #expect(!text.contains("renewals=0"), "the token was renewed: \(text)")
        // Everything published is stored exactly once, in the typed tables.
        #expect(h.waitUntil(timeout: 30) { try h.count(eventsLanded) == published },
                "\(published) published, \((try? h.count(eventsLanded)) ?? -1) stored")
        #expect(try h.count("SELECT count(*) FROM events") == 0, "no event fell back to generic storage")
        let deadLetters = try h.deadLetters()
        #expect(deadLetters.isEmpty, "nothing dead-lettered: \(deadLetters.prefix(3))")
        #expect(try h.count("SELECT count(*) FROM producer_tokens WHERE producer_id = '\(producerID)'") >= 2,
                "an exchange and at least one renewal")
        #expect(try h.count("SELECT count(*) FROM producer_subjects WHERE producer_id = '\(producerID)'") == typedTables.count)
    }

    /// The count of the producer's last `published=N` line (0 without one).
    static func publishedCount(_ output: String) -> Int {
        Int(output.split(separator: "\n").last { $0.hasPrefix("published=") }?
            .dropFirst("published=".count).prefix { $0.isNumber } ?? "") ?? 0
    }

    /// A query for how many distinct events of `producerID` the typed tables hold.
    static func landedQuery(producerID: String) -> String {
        "SELECT " + typedTables.map { "(SELECT count(DISTINCT event_id) FROM \($0) WHERE producer_id = '\(producerID)')" }
            .joined(separator: " + ")
    }

    /// What the admin API does on approval (docs/admin.md, "POST /auth/review"): key → approved, pending audit rows →
    /// approved, then the notification on the stream of the newest audit row's nonce.
    static func approve(_ h: IngestHarness, fingerprint: String, producerID: String) throws {
        _ = try h.pg.query("SELECT approve_producer_key_new($1, $2::uuid, 'test-admin')", [fingerprint, producerID])
        let nonce = try h.pg.query("SELECT nonce FROM producer_registrations WHERE fingerprint = $1 ORDER BY ts DESC LIMIT 1",
                                   [fingerprint]).scalar ?? ""
        #expect(try h.count("SELECT count(*) FROM producer_keys WHERE fingerprint = '\(fingerprint)' AND status = 'approved' AND approved_at IS NOT NULL") == 1)
        #expect(try h.count("SELECT count(*) FROM producer_registrations WHERE fingerprint = '\(fingerprint)' AND status = 'pending'") == 0)
        let stream = h.prefix + "register:resp:" + nonce
        try h.redis.command(["XADD", stream, "*", "fingerprint", fingerprint, "producer_id", producerID, "status", "approved"])
        try h.redis.command(["EXPIRE", stream, "300"])
    }

    // MARK: processes

    static func start(_ tool: String, _ args: [String], output: String, directory: String? = nil) throws -> Process {
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let handle = FileHandle(forWritingAtPath: output)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return p
    }

    /// Runs a command to completion; returns its status and combined output.
    static func runToEnd(_ tool: String, _ args: [String], directory: String) throws -> (Int32, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dk-pe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = try start(tool, args, output: path, directory: directory)
        while p.isRunning { Thread.sleep(forTimeInterval: 0.02) }
        return (p.terminationStatus, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}

/// The example producers the sharded-ingest suites run: `Sources/ProducerExample` and
/// `examples/python/producer.py`.
enum ExampleProducer: String, CaseIterable, Sendable, CustomStringConvertible {
    case swift, python

    var description: String { rawValue }

    /// The tool and its leading arguments; nil where it cannot run here (the Swift binary's
    /// absence recorded as an issue, python3's missing packages printed as `test` skipped).
    func command(skipping test: String = #function) throws -> (tool: String, args: [String])? {
        switch self {
        case .swift:
            return ProducerExampleTests.producerBinaryOrIssue().map { ($0, []) }
        case .python:
            guard try ProducerExampleTests.pythonRequirementsPresent(skipping: test) else { return nil }
            return ("/usr/bin/env", ["python3", ProducerExampleTests.pythonDir + "/producer.py"])
        }
    }
}
