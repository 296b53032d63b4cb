import Foundation
import KernelSpill
import Logging
import Testing

/// `kernel spill status` and `kernel spill replay`, as an operator runs them (the built binary).
@Suite("kernel spill CLI")
struct SpillCommandTests {
    func runKernel(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try IngestHarness.runKernel(args)
    }

    /// Seals two segments in the harness's spill directory: `firstCount` events from seq 0, then
    /// 60 from seq 100.
    func writeTwoSealedSegments(_ h: IngestHarness, firstCount: Int) throws -> SpillDirectory {
        let logger = Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }
        let directory = try SpillDirectory(path: h.dir + "/spill")
        let appender = try SpillAppender(directory: directory, segmentBytes: 1 << 20, maxBytes: 1 << 30, logger: logger)
        _ = try appender.append(try SpillReplayTests().events(h, count: firstCount, from: 0))
        try appender.sealActive()
        _ = try appender.append(try SpillReplayTests().events(h, count: 60, from: 100))
        try appender.sealActive()
        return directory
    }

    /// While the directory's lock is held (as a running kernel holds it) the command exits 1
    /// naming the directory.
    func expectRefusedWhileLocked(_ h: IngestHarness, _ directory: SpillDirectory, _ args: [String]) throws {
        let lock = try directory.lock()
        let refused = try runKernel(args)
        #expect(refused.status == 1)
        #expect(refused.err.contains(h.dir + "/spill"), "the message names the directory: \(refused.err)")
        withExtendedLifetime(lock) {}
    }

    @Test func statusListsSegmentsAndReplayStoresThemAndRefusesWhileLocked() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let config = try h.configFile(h.yaml())
        let directory = try writeTwoSealedSegments(h, firstCount: 40)

        let status = try runKernel(["spill", "status", "--config", config])
        #expect(status.status == 0, "\(status.err)")
        #expect(status.out.contains("segments: 2"))
        #expect(status.out.contains("records: 100"))
        #expect(status.out.contains("HEALTH"))
        let json = try runKernel(["spill", "status", "--config", config, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect((object?["records"] as? Int) == 100)
        #expect((object?["segments"] as? [Any])?.count == 2)

        // A running kernel (here: a held lock) keeps the manual replay out.
        try expectRefusedWhileLocked(h, directory, ["spill", "replay", "--config", config])

        let replay = try runKernel(["spill", "replay", "--config", config])
        #expect(replay.status == 0, "\(replay.err)")
        #expect(replay.out.contains("100 events"))
        #expect(try h.count("SELECT count(*) FROM events") == 100)
        #expect(try directory.segments().isEmpty)
        let empty = try runKernel(["spill", "replay", "--config", config])
        #expect(empty.status == 0)
        #expect(empty.out.contains("nothing to replay"))
    }

    /// Observed at the previous release: nothing could replay a `.damaged` file. `kernel spill
    /// salvage` replays the good records of every `.damaged` file exactly once.
    @Test func salvageReplaysTheGoodRecordsOfDamagedFilesExactlyOnce() throws {
        let h = try IngestHarness()
        defer { h.tearDown() }
        let config = try h.configFile(h.yaml())
        let directory = try writeTwoSealedSegments(h, firstCount: 100)
        let segments = try directory.segments()
        #expect(segments.count == 2)
        // 1: a flipped header bit, quarantined as the previous release left such a file (none of
        // its events stored).
        var first = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segments[0].path)))
        first[13] ^= 0x01
        try Data(first).write(to: URL(fileURLWithPath: segments[0].path + ".damaged"))
        try FileManager.default.removeItem(atPath: segments[0].path)
        // 2: a flipped byte mid-file; the replay stores its 59 good events and keeps it as .damaged.
        var second = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segments[1].path)))
        second[second.count / 2] ^= 0x5A
        try Data(second).write(to: URL(fileURLWithPath: segments[1].path))
        let replay = try runKernel(["spill", "replay", "--config", config])
        #expect(replay.status == 0, "\(replay.err)")
        #expect(try h.count("SELECT count(*) FROM events") == 59)
        #expect(FileManager.default.fileExists(atPath: segments[1].path + ".damaged"))

        // A running kernel (here: a held lock) keeps salvage out, as it does replay.
        try expectRefusedWhileLocked(h, directory, ["spill", "salvage", "--config", config])

        let salvage = try runKernel(["spill", "salvage", "--config", config])
        #expect(salvage.status == 0, "\(salvage.err)")
        #expect(salvage.out.contains("salvaged 100 records"), "\(salvage.out)")
        #expect(salvage.out.contains("59 skipped as already stored"), "\(salvage.out)")
        #expect(salvage.out.contains("unreadable bytes"), "\(salvage.out)")
        #expect(salvage.err.contains("salvag"), "a progress line on stderr: \(salvage.err)")
        #expect(try h.count("SELECT count(*) FROM events") == 160 - 1)
        #expect(try h.count("SELECT count(DISTINCT event_id) FROM events") == 159)

        // Run twice: nothing is stored twice.
        let again = try runKernel(["spill", "salvage", "--config", config])
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("salvaged 0 records"), "\(again.out)")
        #expect(again.out.contains("159 skipped as already stored"), "\(again.out)")
        #expect(try h.count("SELECT count(*) FROM events") == 159)
    }
}
