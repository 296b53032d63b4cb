import Foundation
import Testing

/// The signals a running kernel takes, read from /proc: a write to a connection its peer closed
/// must come back as EPIPE, not end the process (hiredis writes with write(2); Redis restarting
/// under the acknowledger's XACK is enough). A guard: it passed before the kernel ignored SIGPIPE
/// itself, because a linked library already did.
@Suite("Signal dispositions of kernel run")
struct SignalDispositionTests {
    @Test func sigpipeIsIgnoredSoAClosedConnectionIsAnErrorNotADeath() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        // Started with SIGPIPE at its default: a test runner (and systemd, by default) may hand
        // it on ignored, which would hide a kernel that does not ignore it itself.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal=PIPE", IngestHarness.kernelBinary, "run", "--config", try h.configFile(h.yaml())]
        process.environment = IngestHarness.childEnvironment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        #expect(h.waitUntil(timeout: 60) { h.logLines().contains { $0.contains("kernel ready") } })
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") })
        let mask = try #require(UInt64(line.split(separator: "\t").last.map(String.init) ?? "", radix: 16))
        #expect(mask & (1 << UInt64(SIGPIPE - 1)) != 0, "SIGPIPE ignored (\(line))")
        #expect(mask & (1 << UInt64(SIGTERM - 1)) == 0, "SIGTERM still stops it")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
