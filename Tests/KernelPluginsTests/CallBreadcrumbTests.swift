import Foundation
import KernelPlugins
import Testing

/// The crash breadcrumb: what one process writes before each plugin call is what the next one
/// reads when the first died (docs/plugins.md, "When a plugin crashes or hangs").
@Suite("Crash breadcrumb", .serialized)
struct CallBreadcrumbTests {
    func path() -> String { NSTemporaryDirectory() + "crumb-\(UUID().uuidString).crumb" }

    @Test func aCallInProgressIsReadBackByTheNextOpen() throws {
        let file = path()
        defer { unlink(file) }
        do {
            let crumb = try CallBreadcrumb(path: file, slots: 2, capacity: 8)
            #expect(crumb.lastCrash() == nil, "a new file says nothing")
            crumb.begin()
            let single = crumb.slot(0)
            single.prepare(plugin: "trade", version: "1.2.0", family: "trade", refs: ["1-1", "1-2", "1-3"])
            single.enter(index: 1, startedNanos: 5)
            let batch = crumb.slot(1)
            batch.prepare(plugin: "book", version: "2.0.0", family: "book", refs: ["3/9-0", "3/9-1"])
            batch.enter(index: nil, startedNanos: 6)
            // The process "dies" here: no leave(), no end().
            CrashSignals_unregisterForTests(crumb)
        }
        let next = try CallBreadcrumb(path: file, slots: 2, capacity: 8)
        let crash = try #require(next.lastCrash())
        #expect(crash.calls.count == 2)
        let first = crash.calls[0]
        #expect(first.plugin == "trade" && first.version == "1.2.0" && first.family == "trade")
        #expect(first.refs == ["1-2"] && first.singleCall && first.signal == nil && !first.hang)
        #expect(crash.calls[1].refs == ["3/9-0", "3/9-1"] && !crash.calls[1].singleCall)
        next.begin()
        next.end()
        #expect(try CallBreadcrumb(path: file, slots: 2, capacity: 8).lastCrash() == nil, "a clean stop leaves nothing")
    }

    @Test func anIdleSlotAndAHangAreToldApart() throws {
        let file = path()
        defer { unlink(file) }
        do {
            let crumb = try CallBreadcrumb(path: file, slots: 1, capacity: 4)
            crumb.begin()
            let slot = crumb.slot(0)
            slot.prepare(plugin: "p", version: "1", family: "f", refs: ["7-7"])
            slot.enter(index: 0, startedNanos: 1)
            slot.leave()
            #expect(crumb.busyCalls(nowNanos: 10).isEmpty)
            slot.enter(index: 0, startedNanos: 1)
            #expect(crumb.busyCalls(nowNanos: 10).first?.elapsedNanos == 9)
            slot.markHang()
            CrashSignals_unregisterForTests(crumb)
        }
        let crash = try #require(try CallBreadcrumb(path: file, slots: 1, capacity: 4).lastCrash())
        #expect(crash.calls.first?.hang == true && crash.calls.first?.cause == "hang (watchdog)")
    }

    /// The file is read at start-up: garbage, a truncated file or absurd counts never trap.
    @Test func hostileFilesNeverTrap() throws {
        var seed: UInt64 = 42
        for round in 0..<200 {
            let file = path()
            defer { unlink(file) }
            var bytes = [UInt8](repeating: 0, count: [0, 3, 64, 100, 4096, 70_000][round % 6])
            for i in bytes.indices {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                bytes[i] = UInt8(truncatingIfNeeded: seed >> 33)
            }
            if bytes.count >= 20 {
                // A valid magic and layout with a running flag, so the slot parser is reached.
                withUnsafeBytes(of: UInt32(0x4443_4B42).littleEndian) { for (i, b) in $0.enumerated() { bytes[i] = b } }
                withUnsafeBytes(of: UInt32(1).littleEndian) { for (i, b) in $0.enumerated() { bytes[4 + i] = b } }
                withUnsafeBytes(of: UInt32(1).littleEndian) { for (i, b) in $0.enumerated() { bytes[16 + i] = b } }
            }
            FileManager.default.createFile(atPath: file, contents: Data(bytes))
            let crumb = try CallBreadcrumb(path: file, slots: 1, capacity: 4)
            _ = crumb.lastCrash()
        }
    }
}

/// Leaves the breadcrumb as a dead process would (its handler registration aside).
private func CrashSignals_unregisterForTests(_ crumb: CallBreadcrumb) { crumb.forgetWithoutStopping() }
