#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import KernelSpill
import Testing

@Suite("Spill directory")
struct SpillDirectoryTests {
    @Test("creates missing parents with mode 0750 and lists only segment files, by sequence")
    func createAndList() throws {
        let root = TempDirectory()
        let path = root.path + "/a/b/spill/"
        let directory = try SpillDirectory(path: path)
        #expect(directory.path == root.path + "/a/b/spill")
        var info = stat()
        #expect(stat(directory.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o750)
        #expect(try directory.segments().isEmpty)
        #expect(try directory.nextSequence() == 1)

        for sequence: UInt64 in [12, 3, 7] {
            _ = try SpillFixtures.writeSegment(in: directory.path, sequence: sequence, payloads: [[1, 2, 3]])
        }
        for name in ["notes.txt", "spill-7.seg", "spill-00000000000000000009.seg.damaged"] {
            SpillFixtures.writeFile(directory.path + "/" + name, [0])
        }
        _ = try directory.lock()
        let segments = try directory.segments()
        #expect(segments.map(\.sequence) == [3, 7, 12])
        #expect(segments.map(\.fileName) == [3, 7, 12].map { SpillSegmentFormat.fileName(sequence: $0) })
        #expect(segments.allSatisfy { $0.bytes == SpillSegmentFormat.headerSize + SpillSegmentFormat.recordHeaderSize + 3 })
        #expect(segments.allSatisfy { $0.createdAtNanos != nil })
        #expect(try directory.totalBytes() == segments.reduce(0) { $0 + $1.bytes })
        #expect(try directory.nextSequence() == 13)

        try directory.remove(segments[1])
        #expect(try directory.segments().map(\.sequence) == [3, 12])
        try directory.remove(segments[1])   // already gone: not an error
        // A segment with a bad header is still listed (replay reports it), without a creation time.
        SpillFixtures.writeFile(directory.path + "/" + SpillSegmentFormat.fileName(sequence: 20), [1, 2, 3])
        #expect(try directory.segments().last?.createdAtNanos == nil)
        // Quarantined segments are listed for salvage, and a new segment never takes the name of
        // one: replaying it damaged would rename it over the kept file.
        #expect(try directory.damagedSegments().map(\.sequence) == [9])
        SpillFixtures.writeFile(directory.path + "/" + SpillSegmentFormat.fileName(sequence: 30) + ".damaged", [0])
        #expect(try directory.damagedSegments().map(\.sequence) == [9, 30])
        #expect(try directory.nextSequence() == 31)
    }

    @Test("a path that is a file is refused with an I/O error naming it")
    func notADirectory() {
        let root = TempDirectory()
        SpillFixtures.writeFile(root.path + "/file", [1])
        do {
            _ = try SpillDirectory(path: root.path + "/file")
            Issue.record("opened a file as a directory")
        } catch {
            #expect(error.reasonCode == "spill_io_error")
            #expect("\(error)".contains(root.path + "/file"))
        }
    }

    @Test("the lock is exclusive between two opens, even in one process, and released on close and deinit")
    func lockIsExclusive() throws {
        let root = TempDirectory()
        let first = try SpillDirectory(path: root.path + "/spill")
        let second = try SpillDirectory(path: root.path + "/spill")
        let held = try first.lock()
        #expect(held.isHeld)
        do {
            _ = try second.lock()
            Issue.record("second lock granted while the first is held")
        } catch {
            #expect(error == .locked(directory: root.path + "/spill"))
            #expect(error.reasonCode == "spill_locked")
            #expect("\(error)".contains(root.path + "/spill"))
        }
        held.close()
        #expect(!held.isHeld)
        do {
            let again = try second.lock()
            #expect(throws: SpillError.self) { try first.lock() }
            _ = again
        }
        // `again` is gone: its deinit released the lock.
        let last = try first.lock()
        #expect(last.isHeld)
    }
}
