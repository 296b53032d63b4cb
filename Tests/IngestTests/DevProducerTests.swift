import Foundation
import KernelCore
import KernelEvents
import Testing

/// `kernel dev producer`, the built binary against real Redis and Postgres: on a development
/// deployment one command gives a producer, bound subjects and a token that the running kernel
/// accepts; anywhere else it refuses and creates nothing.
@Suite("kernel dev producer", .serialized)
struct DevProducerTests {
    func runKernel(_ args: [String]) throws -> (status: Int32, output: String) {
        let run = try IngestHarness.runKernel(args, mergingStderr: true)
        return (run.status, run.out)
    }

    /// The value after `label` on the output line that starts with it.
    func field(_ output: String, _ label: String, word: Int = 0) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(label + " ") }
            .map { $0.dropFirst(label.count).split(separator: " ") }
            .flatMap { word < $0.count ? String($0[word]) : nil }
    }

    @Test func aDevelopmentDeploymentGetsItsFirstRowsFromOneCommand() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        h.serverLines = ["deployment: development"]
        let config = try h.configFile(h.yaml())
        let daemon = try h.startDaemon()
        defer { daemon.stop() }

        let result = try runKernel(["dev", "producer", "--config", config, "--family", "trade", "--subjects", "2"])
        #expect(result.status == 0, "\(result.output)")
        let subjects = result.output.split(separator: "\n").filter { $0.hasPrefix("subject ") }
        #expect(subjects.count == 2, "\(result.output)")
        #expect(try h.count("SELECT count(*) FROM producer_subjects") == 2)
        guard let token = field(result.output, "token"), let subjectText = field(result.output, "subject", word: 1),
              let subject = EventUUID(subjectText) else {
            Issue.record("no token or subject in:\n\(result.output)")
            return
        }
        #expect(result.output.contains("certificate flow"), "the output says production uses the certificate flow")

        try h.publish(payload: IngestHarness.envelope(subject: subject, payload: """
            {"venue":"XNAS","symbol":"AAPL","price":"187.25","size":100,"side":"buy","trade_id":"T-1"}
            """), token: token)
        #expect(h.waitUntil { try h.count("SELECT count(*) FROM md_trade") == 1 }, "dlq: \((try? h.deadLetters()) ?? [])")

        // plugins list states the kernel's toolchain beside what it loads.
        let list = try runKernel(["plugins", "list", "--config", config])
        #expect(list.output.contains("kernel toolchain swift-"), "\(list.output)")

        // Run again: the producer is reused and the subjects keep their binding.
        let again = try runKernel(["dev", "producer", "--config", config, "--family", "trade", "--subjects", "2"])
        #expect(again.status == 0, "\(again.output)")
        #expect(try h.count("SELECT count(*) FROM producers") == 1)
    }

    @Test func anyOtherDeploymentIsRefusedAndNothingIsMade() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let config = try h.configFile(h.yaml())   // server.deployment defaults to production
        let result = try runKernel(["dev", "producer", "--config", config, "--family", "trade"])
        #expect(result.status == 1)
        #expect(result.output.contains("server.deployment: production") && result.output.contains("certificate flow"), "\(result.output)")
        #expect(try h.count("SELECT count(*) FROM producers") == 0)
        #expect(try h.count("SELECT count(*) FROM producer_tokens") == 0)
    }
}
