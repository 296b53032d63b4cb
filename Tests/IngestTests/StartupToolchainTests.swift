import Foundation
import KernelPlugins
import Testing

/// The kernel states the Swift toolchain it was built with at start-up, so an operator reading the
/// log knows which toolchain Swift plugins must be built with.
@Suite("Start-up toolchain line", .serialized)
struct StartupToolchainTests {
    @Test func kernelStartingNamesTheToolchain() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let fleet = KernelFleet(h)
        defer { fleet.stopAll() }
        try fleet.start("k1", claimIdleMs: 60_000)
        #expect(h.waitUntil(timeout: 60) { !fleet.logEntries("k1", message: "kernel starting").isEmpty },
                "no 'kernel starting' line in \(fleet.logPath("k1"))")
        let line = fleet.logEntries("k1", message: "kernel starting").first
        #expect((line?["fields"] as? [String: Any])?["toolchain"] as? String == HostToolchain.swift, "\(String(describing: line))")
    }
}
