#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import KernelSpill
import KernelTestSupport
import Testing

@Suite("Spill segment files")
struct SpillSegmentTests {
    /// Six encoded events of different sizes.
    static let payloads: [[UInt8]] = (0..<6).map { SpillFixtures.encoded(SpillFixtures.event($0)) }

    @Test("file names carry a 20-digit sequence and parse back")
    func fileNames() {
        #expect(SpillSegmentFormat.fileName(sequence: 42) == "spill-00000000000000000042.seg")
        #expect(SpillSegmentFormat.sequence(fromFileName: "spill-00000000000000000042.seg") == 42)
        #expect(SpillSegmentFormat.sequence(fromFileName: SpillSegmentFormat.fileName(sequence: UInt64.max)) == UInt64.max)
        for name in ["spill-42.seg", "spill-0000000000000000004x.seg", "spill-00000000000000000042.seg.damaged",
                     ".lock", "spill-99999999999999999999.seg", "xspill-00000000000000000042.seg"] {
            #expect(SpillSegmentFormat.sequence(fromFileName: name) == nil, "\(name)")
        }
    }

    @Test("records written come back in order with their offsets; a record larger than the window too")
    func roundTrip() throws {
        let dir = TempDirectory()
        var payloads = Self.payloads
        payloads.append([UInt8](repeating: 0xE7, count: 10_000))   // larger than the 4 KiB window, full of magic-like bytes
        payloads.append([])
        payloads += Self.payloads
        let (path, offsets) = try SpillFixtures.writeSegment(in: dir.path, payloads: payloads)
        var mode = stat()
        stat(path, &mode)
        #expect(mode.st_mode & 0o777 == 0o640)
        var reader = try SpillSegmentReader(path: path, bufferBytes: 4096)
        #expect(reader.header?.version == SpillSegmentFormat.version)
        var got: [(Int64, [UInt8])] = []
        while let item = try reader.next() {
            guard case let .record(offset, payload) = item else { Issue.record("damage: \(item)"); continue }
            got.append((offset, payload))
        }
        #expect(got.map(\.0) == offsets)
        #expect(got.map(\.1) == payloads)
        #expect(try reader.next() == nil)
    }

    @Test("a header alone is an empty segment")
    func emptySegment() throws {
        let dir = TempDirectory()
        let (path, _) = try SpillFixtures.writeSegment(in: dir.path, payloads: [])
        #expect(try SpillFixtures.readAll(path).isEmpty)
        #expect(SpillFixtures.readFile(path).count == SpillSegmentFormat.headerSize)
    }

    @Test("truncating inside the last record at every byte: earlier records read back, the tail is torn at its offset")
    func tornTailEveryOffset() throws {
        let dir = TempDirectory()
        let (path, offsets) = try SpillFixtures.writeSegment(in: dir.path, payloads: Self.payloads)
        let full = SpillFixtures.readFile(path)
        let last = Int(offsets.last!)
        let cutPath = dir.path + "/cut.seg"
        // A cut exactly at the record boundary is a clean file.
        SpillFixtures.writeFile(cutPath, Array(full[0..<last]))
        #expect(SpillFixtures.damage(try SpillFixtures.readAll(cutPath)).isEmpty)
        for cut in (last + 1)..<full.count {
            SpillFixtures.writeFile(cutPath, Array(full[0..<cut]))
            let items = try SpillFixtures.readAll(cutPath)
            let records = SpillFixtures.records(items)
            #expect(records.map(\.payload) == Array(Self.payloads.dropLast()), "cut at \(cut)")
            let damage = SpillFixtures.damage(items)
            #expect(damage.count == 1)
            #expect(damage.first?.kind == .tornTail, "cut at \(cut): \(damage)")
            #expect(damage.first?.offset == Int64(last))
            #expect(damage.first?.length == Int64(cut - last))
            #expect(damage.first?.file == cutPath)
            if case .damage = items.last {} else { Issue.record("the torn tail is the last item") }
        }
    }

    @Test("zero bytes after the last record (a crash-extended file) read as a torn tail")
    func zeroTail() throws {
        let dir = TempDirectory()
        let (path, _) = try SpillFixtures.writeSegment(in: dir.path, payloads: Self.payloads)
        let full = SpillFixtures.readFile(path)
        SpillFixtures.writeFile(path, full + [UInt8](repeating: 0, count: 4096))
        let items = try SpillFixtures.readAll(path)
        #expect(SpillFixtures.records(items).map(\.payload) == Self.payloads)
        #expect(SpillFixtures.damage(items).map(\.kind) == [.tornTail])
        #expect(SpillFixtures.damage(items).first?.offset == Int64(full.count))
    }

    /// Writes the six payloads, applies `mutate` to the file bytes, reads back.
    static func damaged(_ mutate: (inout [UInt8], [Int]) -> Void) throws -> (items: [SpillReadItem], offsets: [Int], size: Int) {
        let dir = TempDirectory()
        let (path, offsets64) = try SpillFixtures.writeSegment(in: dir.path, payloads: payloads)
        let offsets = offsets64.map { Int($0) }
        var bytes = SpillFixtures.readFile(path)
        mutate(&bytes, offsets)
        SpillFixtures.writeFile(path, bytes)
        return (try SpillFixtures.readAll(path), offsets, bytes.count)
    }

    /// Only record 2 is lost; one damage item, at its offset, spanning exactly it.
    static func expectOnlyRecordTwoLost(_ result: (items: [SpillReadItem], offsets: [Int], size: Int),
                                        kind: SpillDamage.Kind, sourceLocation: SourceLocation = #_sourceLocation) {
        var expected = payloads
        expected.remove(at: 2)
        #expect(SpillFixtures.records(result.items).map(\.payload) == expected, sourceLocation: sourceLocation)
        #expect(SpillFixtures.records(result.items).map { Int($0.offset) } == result.offsets.enumerated().filter { $0.offset != 2 }.map(\.element),
                sourceLocation: sourceLocation)
        let damage = SpillFixtures.damage(result.items)
        #expect(damage.count == 1, "\(damage)", sourceLocation: sourceLocation)
        #expect(damage.first?.kind == kind, "\(damage)", sourceLocation: sourceLocation)
        #expect(damage.first?.offset == Int64(result.offsets[2]), sourceLocation: sourceLocation)
        #expect(damage.first?.length == Int64(result.offsets[3] - result.offsets[2]), sourceLocation: sourceLocation)
        #expect(damage.first?.description.contains("offset \(result.offsets[2])") == true, sourceLocation: sourceLocation)
    }

    @Test("a flipped payload byte mid-file loses only that record (bad checksum)")
    func flippedPayloadByte() throws {
        Self.expectOnlyRecordTwoLost(try Self.damaged { bytes, offsets in bytes[offsets[2] + 20] ^= 0x10 }, kind: .badChecksum)
    }

    @Test("a flipped stored CRC loses only that record")
    func flippedChecksum() throws {
        Self.expectOnlyRecordTwoLost(try Self.damaged { bytes, offsets in bytes[offsets[2] + 9] ^= 0x01 }, kind: .badChecksum)
    }

    @Test("a flipped length byte loses only that record")
    func flippedLength() throws {
        // Low byte: still inside the file, the CRC (which covers the length) fails.
        Self.expectOnlyRecordTwoLost(try Self.damaged { bytes, offsets in bytes[offsets[2] + 4] ^= 0x01 }, kind: .badChecksum)
        // High byte: above the record limit.
        Self.expectOnlyRecordTwoLost(try Self.damaged { bytes, offsets in bytes[offsets[2] + 7] ^= 0x80 }, kind: .badLength)
        // Past the end of the file while valid records follow: the length is the damage, not a torn tail.
        Self.expectOnlyRecordTwoLost(try Self.damaged { bytes, offsets in bytes[offsets[2] + 6] ^= 0x01 }, kind: .badLength)
    }

    @Test("a flipped record magic byte loses only that record")
    func flippedMagic() throws {
        Self.expectOnlyRecordTwoLost(try Self.damaged { bytes, offsets in bytes[offsets[2]] ^= 0xFF }, kind: .badMagic)
        Self.expectOnlyRecordTwoLost(try Self.damaged { bytes, offsets in bytes[offsets[2] + 3] = 0 }, kind: .badMagic)
    }

    @Test("a flipped byte in the last complete record is a bad checksum to the end, not a torn tail")
    func flippedLastRecord() throws {
        let result = try Self.damaged { bytes, offsets in bytes[offsets[5] + 15] ^= 0x01 }
        #expect(SpillFixtures.records(result.items).map(\.payload) == Array(Self.payloads.prefix(5)))
        let damage = SpillFixtures.damage(result.items)
        #expect(damage.map(\.kind) == [.badChecksum])
        #expect(damage.first?.offset == Int64(result.offsets[5]))
        #expect(damage.first?.length == Int64(result.size - result.offsets[5]))
    }

    @Test("two damaged records, garbage between records: each reported, the rest read")
    func multipleDamage() throws {
        let result = try Self.damaged { bytes, offsets in
            bytes[offsets[1] + 13] ^= 0x40
            bytes[offsets[4] + 30] ^= 0x02
        }
        #expect(SpillFixtures.records(result.items).map(\.payload) == [Self.payloads[0], Self.payloads[2], Self.payloads[3], Self.payloads[5]])
        #expect(SpillFixtures.damage(result.items).map(\.offset) == [Int64(result.offsets[1]), Int64(result.offsets[4])])

        let garbage = try Self.damaged { bytes, offsets in
            bytes.insert(contentsOf: [0xE7, 0x5B, 0x1E, 0x5C, 1, 2, 3, 4, 5, 6, 7], at: offsets[3])
        }
        #expect(SpillFixtures.records(garbage.items).map(\.payload) == Self.payloads)
        #expect(SpillFixtures.damage(garbage.items).map(\.kind) == [.badLength])
        #expect(SpillFixtures.damage(garbage.items).first?.length == 11)
    }

    @Test("thousands of seeded single-byte flips: exactly the touched record is lost, never a trap")
    func randomFlips() throws {
        let dir = TempDirectory()
        // Many small records and a small window, so flips land across window boundaries.
        let payloads = (0..<40).map { SpillFixtures.encoded(SpillFixtures.event($0)) }
        let (path, offsets64) = try SpillFixtures.writeSegment(in: dir.path, payloads: payloads)
        let offsets = offsets64.map { Int($0) }
        let original = SpillFixtures.readFile(path)
        var rng = SplitMix64(seed: 0x5E6)
        let fd = open(path, O_RDWR)
        defer { close(fd) }
        for _ in 0..<1500 {
            let at = Int.random(in: offsets[0]..<original.count, using: &rng)
            var flipped = original[at] ^ UInt8.random(in: 1...255, using: &rng)
            _ = pwrite(fd, &flipped, 1, off_t(at))
            var reader = try SpillSegmentReader(path: path, bufferBytes: 4096)
            var items: [SpillReadItem] = []
            while let item = try reader.next() { items.append(item) }
            var restore = original[at]
            _ = pwrite(fd, &restore, 1, off_t(at))

            let touched = offsets.lastIndex { $0 <= at }!
            var expected = payloads
            expected.remove(at: touched)
            #expect(SpillFixtures.records(items).map(\.payload) == expected, "flip at \(at)")
            let damage = SpillFixtures.damage(items)
            #expect(damage.count == 1 && damage[0].offset == Int64(offsets[touched]), "flip at \(at): \(damage)")
        }
    }

    @Test("a bad header byte loses no record: one badHeader damage up to the first record, every record read",
          arguments: Array(0..<24))
    func badHeaderByte(index: Int) throws {
        let dir = TempDirectory()
        let (path, offsets) = try SpillFixtures.writeSegment(in: dir.path, payloads: Self.payloads)
        var bytes = SpillFixtures.readFile(path)
        bytes[index] ^= 0x01
        SpillFixtures.writeFile(path, bytes)
        let items = try SpillFixtures.readAll(path)
        #expect(SpillFixtures.records(items).map(\.payload) == Self.payloads)
        #expect(SpillFixtures.records(items).map(\.offset) == offsets)
        #expect(SpillFixtures.damage(items).map(\.kind) == [.badHeader])
        #expect(SpillFixtures.damage(items).first?.offset == 0)
        #expect(SpillFixtures.damage(items).first?.length == offsets[0])
        #expect(SpillFixtures.damage(items).first?.reasonCode == "spill_bad_header")
    }

    @Test("short, empty and foreign files are bad headers; a missing file throws an I/O error")
    func shortFiles() throws {
        let dir = TempDirectory()
        for content in [[], Array("DKSPILL".utf8), Array("hello world, this is not a spill segment".utf8)] {
            let path = dir.path + "/x.seg"
            SpillFixtures.writeFile(path, content)
            let items = try SpillFixtures.readAll(path)
            #expect(items.count == 1)
            #expect(SpillFixtures.damage(items).first?.kind == .badHeader)
        }
        // A future format version.
        var future = SpillSegmentFormat.header(createdAtNanos: 1, flags: 0)
        future[8] = 9
        future.storeLE(CRC32C.checksum(future[0..<20]), at: 20)
        SpillFixtures.writeFile(dir.path + "/f.seg", future)
        let items = try SpillFixtures.readAll(dir.path + "/f.seg")
        #expect(SpillFixtures.damage(items).first?.detail.contains("version 9") == true)
        do {
            _ = try SpillSegmentReader(path: dir.path + "/missing.seg")
            Issue.record("opened a missing file")
        } catch {
            #expect(error.reasonCode == "spill_io_error")
            #expect("\(error)".contains("missing.seg"))
        }
    }

    @Test("the writer refuses an existing name and never overwrites")
    func exclusiveCreate() throws {
        let dir = TempDirectory()
        let (path, _) = try SpillFixtures.writeSegment(in: dir.path, sequence: 3, payloads: Self.payloads)
        let before = SpillFixtures.readFile(path)
        #expect(throws: SpillFormatError.self) { try SpillSegmentWriter.create(directory: dir.path, sequence: 3) }
        #expect(SpillFixtures.readFile(path) == before)
    }

    @Test("scan counts records, lists damage and the ts span")
    func scan() throws {
        let dir = TempDirectory()
        var payloads = Self.payloads
        payloads.insert([1, 2, 3], at: 1)   // frames fine, does not decode
        let (path, offsets) = try SpillFixtures.writeSegment(in: dir.path, payloads: payloads)
        var bytes = SpillFixtures.readFile(path)
        bytes[Int(offsets[4]) + 16] ^= 0x01
        bytes.removeLast(3)
        SpillFixtures.writeFile(path, bytes)
        let scan = try SpillSegmentScan(path: path)
        #expect(scan.records == 4)
        #expect(scan.damage.map(\.kind) == [.badRecord, .badChecksum, .tornTail])
        #expect(scan.damage.map(\.offset) == [offsets[1], offsets[4], offsets[6]])
        #expect(scan.oldestMicros == SpillFixtures.event(0).tsMicros)
        #expect(scan.newestMicros == SpillFixtures.event(4).tsMicros)   // event 5 is in the torn tail
        #expect(scan.createdAtNanos != nil)
        #expect(scan.bytes == bytes.count)
    }

    // MARK: the seal (docs/spill.md, "The seal")

    @Test("a sealed segment cut anywhere is truncated, with the records lost; never a torn tail")
    func truncatedSealedSegment() throws {
        let dir = TempDirectory()
        let (path, offsets) = try SpillFixtures.writeSegment(in: dir.path, payloads: Self.payloads, sealed: true)
        let full = SpillFixtures.readFile(path)
        var reader = try SpillSegmentReader(path: path)
        #expect(reader.seal == .sealed(length: Int64(full.count), records: Int64(Self.payloads.count)))
        while let item = try reader.next() { if case .damage(let d) = item { Issue.record("intact sealed segment: \(d)") } }
        let cutPath = dir.path + "/cut.seg"
        for cut in Int(offsets[0])..<full.count {
            SpillFixtures.writeFile(cutPath, Array(full[0..<cut]))
            let items = try SpillFixtures.readAll(cutPath)
            let kept = zip(offsets, Self.payloads).filter { Int($0) + SpillSegmentFormat.recordHeaderSize + $1.count <= cut }.count
            #expect(SpillFixtures.records(items).map(\.payload) == Array(Self.payloads.prefix(kept)), "cut at \(cut)")
            let damage = SpillFixtures.damage(items)
            #expect(damage.map(\.kind) == [.truncated], "cut at \(cut): \(damage)")
            #expect(damage.first?.records == Self.payloads.count - kept, "cut at \(cut)")
            #expect(damage.first?.sealedRecords == Self.payloads.count)
            #expect(damage.first?.reasonCode == "spill_truncated")
        }
    }

    @Test("bytes after a complete sealed segment lose nothing: damage with no record lost")
    func bytesAfterTheSeal() throws {
        let dir = TempDirectory()
        let (path, _) = try SpillFixtures.writeSegment(in: dir.path, payloads: Self.payloads, sealed: true)
        let full = SpillFixtures.readFile(path)
        SpillFixtures.writeFile(path, full + [UInt8](repeating: 0, count: 100))
        let items = try SpillFixtures.readAll(path)
        #expect(SpillFixtures.records(items).map(\.payload) == Self.payloads)
        #expect(SpillFixtures.damage(items).map(\.kind) == [.badMagic])
        #expect(SpillFixtures.damage(items).first?.records == 0)
        #expect(SpillFixtures.damage(items).first?.offset == Int64(full.count))
    }

    @Test("an unsealed segment (the append under way at a crash) still ends in a torn tail")
    func unsealedTornTail() throws {
        let dir = TempDirectory()
        let (path, offsets) = try SpillFixtures.writeSegment(in: dir.path, payloads: Self.payloads)
        var bytes = SpillFixtures.readFile(path)
        bytes.removeLast(5)
        SpillFixtures.writeFile(path, bytes)
        var reader = try SpillSegmentReader(path: path)
        #expect(reader.seal == .open)
        var items: [SpillReadItem] = []
        while let item = try reader.next() { items.append(item) }
        #expect(SpillFixtures.damage(items).map(\.kind) == [.tornTail])
        #expect(SpillFixtures.damage(items).first?.offset == offsets.last)
    }

    @Test("a damaged seal slot loses no record and makes a cut end damage", arguments: [24, 31, 40, 48, 55])
    func damagedSeal(index: Int) throws {
        let dir = TempDirectory()
        let (path, offsets) = try SpillFixtures.writeSegment(in: dir.path, payloads: Self.payloads, sealed: true)
        var bytes = SpillFixtures.readFile(path)
        bytes[index] ^= 0x20
        SpillFixtures.writeFile(path, bytes)
        let items = try SpillFixtures.readAll(path)
        #expect(SpillFixtures.records(items).map(\.payload) == Self.payloads)
        #expect(SpillFixtures.damage(items).map(\.kind) == [.badHeader])
        #expect(SpillFixtures.damage(items).first?.offset == Int64(SpillSegmentFormat.sealOffset))
        bytes.removeLast(3)
        SpillFixtures.writeFile(path, bytes)
        let cut = try SpillFixtures.readAll(path)
        #expect(SpillFixtures.damage(cut).map(\.kind) == [.badHeader, .truncated])
        #expect(SpillFixtures.damage(cut).last?.offset == offsets.last)
    }

    @Test("a bad header of a sealed segment still finds the seal: a cut is counted")
    func badHeaderSealed() throws {
        let dir = TempDirectory()
        let (path, offsets) = try SpillFixtures.writeSegment(in: dir.path, payloads: Self.payloads, sealed: true)
        var bytes = SpillFixtures.readFile(path)
        bytes[3] ^= 0x01
        bytes.removeLast(Int(Int64(bytes.count) - offsets[4]))
        SpillFixtures.writeFile(path, bytes)
        let items = try SpillFixtures.readAll(path)
        #expect(SpillFixtures.records(items).map(\.payload) == Array(Self.payloads.prefix(4)))
        #expect(SpillFixtures.damage(items).map(\.kind) == [.badHeader, .truncated])
        #expect(SpillFixtures.damage(items).last?.records == 2)
    }

    /// Segments written by the previous release (format 1: records from offset 24, no seal slot).
    static func legacySegment(_ payloads: [[UInt8]]) -> (bytes: [UInt8], offsets: [Int64]) {
        var bytes = SpillSegmentFormat.header(createdAtNanos: 1_700_000_000_000_000_000, version: SpillSegmentFormat.legacyVersion)
        var offsets: [Int64] = []
        for payload in payloads {
            offsets.append(Int64(bytes.count))
            payload.withUnsafeBytes { SpillSegmentFormat.appendRecord(payload: $0, to: &bytes) }
        }
        return (bytes, offsets)
    }

    @Test("format-1 segments read; a bad header loses no record; a cut end is damage (it cannot be told from a crash)")
    func legacyFormat() throws {
        let dir = TempDirectory()
        let path = dir.path + "/" + SpillSegmentFormat.fileName(sequence: 1)
        let (bytes, offsets) = Self.legacySegment(Self.payloads)
        SpillFixtures.writeFile(path, bytes)
        var reader = try SpillSegmentReader(path: path)
        #expect(reader.header?.version == 1)
        #expect(reader.seal == .legacy)
        var items: [SpillReadItem] = []
        while let item = try reader.next() { items.append(item) }
        #expect(SpillFixtures.records(items).map(\.payload) == Self.payloads)
        #expect(SpillFixtures.records(items).map(\.offset) == offsets)
        #expect(SpillFixtures.damage(items).isEmpty)

        for index in [0, 9, 14, 21] {
            var flipped = bytes
            flipped[index] ^= 0x08
            SpillFixtures.writeFile(path, flipped)
            let back = try SpillFixtures.readAll(path)
            #expect(SpillFixtures.records(back).map(\.payload) == Self.payloads, "flip at \(index)")
            #expect(SpillFixtures.damage(back).map(\.kind) == [.badHeader], "flip at \(index)")
            #expect(SpillFixtures.damage(back).first?.length == Int64(SpillSegmentFormat.fixedHeaderSize))
        }

        SpillFixtures.writeFile(path, Array(bytes.dropLast(4)))
        let cut = try SpillFixtures.readAll(path)
        #expect(SpillFixtures.records(cut).map(\.payload) == Array(Self.payloads.dropLast()))
        #expect(SpillFixtures.damage(cut).map(\.kind) == [.truncated])
        #expect(SpillFixtures.damage(cut).first?.records == nil, "format 1 does not say how many")
    }
}
