#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a segment file's records in order, streaming through a bounded buffer.
///
/// A segment may be tens of MiB; the reader holds one window (1 MiB by default) plus the payload it
/// returns. Damage is reported and skipped: after a record that does not validate, the reader
/// scans forward for the next record magic whose record does validate and carries on from there.
/// A bad header is skipped the same way, so it loses no record. Damage running to the end of the
/// file whose record was cut short ends the reading: it is a `.tornTail` (the normal trace of a
/// crash mid-append) only in a segment that was never sealed; in a sealed one it is `.truncated`.
/// The file's size is taken at open: bytes appended later are not read.
public struct SpillSegmentReader {
    /// The segment file's path.
    public let path: String
    /// The file's size when opened.
    public let fileSize: Int64
    /// The parsed header, or nil when it was bad (the first item is then the `.badHeader` damage).
    public let header: SpillSegmentFormat.Header?
    /// How the segment was closed, as far as its bytes tell.
    public let seal: SpillSegmentFormat.Seal
    /// Records returned so far.
    public private(set) var recordsRead: Int64 = 0

    private let file: SpillFileDescriptor
    private let headerFailure: SpillFormatError?
    private var headerReported = false
    /// Damage found while opening (an unreadable seal), returned first.
    private var pending: [SpillDamage] = []
    /// Damaged stretches of records returned so far (each hides at least one record).
    private var recordDamage: Int64 = 0
    private var position: Int64
    private var finished = false

    private var window: [UInt8]
    private var windowStart: Int64 = 0
    private var windowCount = 0

    /// Opens `path` and checks its header and seal. Throws only for I/O errors; a bad header is
    /// reported by `next()`.
    public init(path: String, bufferBytes: Int = 1 << 20) throws(SpillFormatError) {
        let fd = try SpillPOSIX.openFile(path, O_RDONLY)
        file = SpillFileDescriptor(fd)
        self.path = path
        fileSize = try SpillPOSIX.fileSize(fd, path: path)
        window = [UInt8](repeating: 0, count: max(bufferBytes, 4096))
        var lead = [UInt8](repeating: 0, count: SpillSegmentFormat.headerSize)
        let n = try SpillPOSIX.readAt(fd, into: &lead, range: 0..<lead.count, offset: 0, path: path)
        let fixed = SpillSegmentFormat.fixedHeaderSize
        let slot: SpillSegmentFormat.Seal = n > fixed
            ? lead.withUnsafeBytes { SpillSegmentFormat.parseSeal(UnsafeRawBufferPointer(rebasing: $0[fixed..<n])) }
            : .open
        switch lead.withUnsafeBytes({ SpillSegmentFormat.parseHeader(UnsafeRawBufferPointer(rebasing: $0[0..<min(n, fixed)])) }) {
        case .success(let parsed) where parsed.version == SpillSegmentFormat.legacyVersion:
            header = parsed
            headerFailure = nil
            seal = .legacy
            position = Int64(fixed)
        case .success(let parsed):
            header = parsed
            headerFailure = nil
            seal = slot
            position = Int64(SpillSegmentFormat.headerSize)
            if case .unreadable(let detail) = slot {
                pending.append(SpillDamage(file: path, offset: Int64(SpillSegmentFormat.sealOffset),
                                           length: min(Int64(SpillSegmentFormat.sealSize), fileSize - Int64(fixed)),
                                           kind: .badHeader, detail: "seal slot damaged: " + detail))
            }
        case .failure(let failure):
            header = nil
            headerFailure = failure
            // The version is unknown. A zero or valid seal slot means format 2 (records at 56);
            // anything else may be a format-1 record at 24, and the records are searched from there.
            switch slot {
            case .open, .sealed:
                seal = slot
                position = Int64(SpillSegmentFormat.headerSize)
            case .unreadable, .legacy:
                seal = .unreadable("header damaged; the seal slot does not say whether the segment was sealed")
                position = Int64(fixed)
            }
        }
    }

    /// The next record or damage, or nil at the end of the file. Throws only for I/O errors.
    public mutating func next() throws(SpillFormatError) -> SpillReadItem? {
        if finished { return nil }
        if let headerFailure, !headerReported {
            headerReported = true
            let detail = if case .badHeader(let text) = headerFailure { text } else { headerFailure.description }
            // Skip the header like any damaged stretch: the records after it still count.
            let resume: Int64?
            if position >= fileSize {
                resume = nil
            } else if case .valid = try check(at: position) {
                resume = position
            } else {
                resume = try nextValidRecord(after: position)
            }
            guard let resume else {
                finished = true
                return .damage(SpillDamage(file: path, offset: 0, length: fileSize, kind: .badHeader,
                                           detail: detail + "; no valid record follows"))
            }
            position = resume
            return .damage(SpillDamage(file: path, offset: 0, length: resume, kind: .badHeader,
                                       detail: detail + "; resynchronised at offset \(resume)"))
        }
        if !pending.isEmpty {
            return .damage(pending.removeFirst())
        }
        if position >= fileSize {
            finished = true
            // Cut exactly at a record boundary: only the seal knows records are missing.
            if case let .sealed(length, records) = seal, fileSize < length {
                return .damage(truncation(at: fileSize, sealedLength: length, sealedRecords: records,
                                          detail: "the file ends at a record boundary"))
            }
            return nil
        }
        let start = position
        switch try check(at: start) {
        case .valid(let length):
            let payload = try readPayload(at: start + Int64(SpillSegmentFormat.recordHeaderSize), length: length)
            position = start + Int64(SpillSegmentFormat.recordHeaderSize + length)
            recordsRead += 1
            return .record(offset: start, payload: payload)
        case .invalid(let kind, let detail):
            if let resume = try nextValidRecord(after: start) {
                position = resume
                recordDamage += 1
                // A length running past the end is only a torn tail when nothing valid follows.
                let reported: SpillDamage.Kind = kind == .tornTail ? .badLength : kind
                return .damage(SpillDamage(file: path, offset: start, length: resume - start, kind: reported,
                                           detail: detail + "; resynchronised at offset \(resume)"))
            }
            finished = true
            let zeros = try isAllZero(from: start)
            guard kind == .tornTail || zeros else {
                return .damage(SpillDamage(file: path, offset: start, length: fileSize - start, kind: kind,
                                           detail: detail + "; no valid record follows"))
            }
            // The file ends inside a record. Legitimate only where an append was under way.
            switch seal {
            case .open:
                return .damage(SpillDamage(file: path, offset: start, length: fileSize - start, kind: .tornTail,
                                           detail: detail + "; no valid record follows"))
            case let .sealed(length, records):
                if start >= length && recordsRead + recordDamage >= records {
                    // Bytes after a complete sealed segment (e.g. zeros a crash added to the file):
                    // nothing sealed is missing.
                    return .damage(SpillDamage(file: path, offset: start, length: fileSize - start, kind: .badMagic,
                                               detail: detail + "; \(fileSize - start) bytes after the sealed length, "
                                                   + "every sealed record present", records: 0))
                }
                return .damage(truncation(at: start, sealedLength: length, sealedRecords: records, detail: detail))
            case .unreadable(let why):
                return .damage(SpillDamage(file: path, offset: start, length: fileSize - start, kind: .truncated,
                                           detail: detail + "; \(why), so it may have been sealed with more records"))
            case .legacy:
                return .damage(SpillDamage(file: path, offset: start, length: fileSize - start, kind: .truncated,
                                           detail: detail + "; a format-1 segment has no seal: a crash mid-append cannot be told from a cut"))
            }
        }
    }

    /// A sealed segment whose bytes end before its sealed length: every record it held had been
    /// fsynced and acknowledged, so the missing ones are lost events.
    private func truncation(at offset: Int64, sealedLength: Int64, sealedRecords: Int64, detail: String) -> SpillDamage {
        // Records hidden by earlier damaged stretches were counted there (at least one each).
        let lost = max(1, sealedRecords - recordsRead - recordDamage)
        return SpillDamage(file: path, offset: offset, length: fileSize - offset, kind: .truncated,
                           detail: detail + "; the segment was sealed at \(sealedLength) bytes with \(sealedRecords) acknowledged records, "
                               + "the file has \(fileSize) bytes: \(lost) records lost",
                           records: Int(lost), sealedRecords: Int(sealedRecords))
    }

    // MARK: validation

    private enum Check {
        case valid(length: Int)
        case invalid(SpillDamage.Kind, String)
    }

    /// Whether a complete, CRC-valid record starts at `offset`.
    private mutating func check(at offset: Int64) throws(SpillFormatError) -> Check {
        let headerSize = SpillSegmentFormat.recordHeaderSize
        let left = fileSize - offset
        guard left >= Int64(headerSize) else {
            return .invalid(.tornTail, "record header cut short: \(left) of \(headerSize) bytes present")
        }
        let (magic, length, stored) = try withWindow(at: offset, count: headerSize) { raw in
            (loadLE(raw, at: 0, as: UInt32.self), loadLE(raw, at: 4, as: UInt32.self), loadLE(raw, at: 8, as: UInt32.self))
        }
        guard magic == SpillSegmentFormat.recordMagic else {
            return .invalid(.badMagic, "no record magic (found 0x\(SpillSegmentFormat.hex(magic)))")
        }
        guard Int(length) <= SpillSegmentFormat.maxRecordPayload else {
            return .invalid(.badLength, "record length \(length) exceeds the limit of \(SpillSegmentFormat.maxRecordPayload)")
        }
        guard Int64(headerSize) + Int64(length) <= left else {
            return .invalid(.tornTail, "record of \(length) payload bytes runs past the end of the file (\(left - Int64(headerSize)) present)")
        }
        // The CRC covers the length bytes and the payload, read window by window.
        var crc = try withWindow(at: offset + 4, count: 4) { CRC32C.checksum($0) }
        var done = 0
        let chunk = window.count
        while done < Int(length) {
            let n = min(chunk, Int(length) - done)
            crc = try withWindow(at: offset + Int64(headerSize + done), count: n) { CRC32C.checksum($0, seed: crc) }
            done += n
        }
        guard crc == stored else {
            return .invalid(.badChecksum, "record checksum mismatch (stored 0x\(SpillSegmentFormat.hex(stored)), computed 0x\(SpillSegmentFormat.hex(crc)))")
        }
        return .valid(length: Int(length))
    }

    /// The offset of the first valid record after `start`, scanning for the record magic.
    private mutating func nextValidRecord(after start: Int64) throws(SpillFormatError) -> Int64? {
        let magic = SpillSegmentFormat.recordMagic
        var candidate = start + 1
        while candidate + Int64(SpillSegmentFormat.recordHeaderSize) <= fileSize {
            let available = Int(min(Int64(window.count), fileSize - candidate))
            let found: Int? = try withWindow(at: candidate, count: available) { raw in
                var i = 0
                while i + 4 <= raw.count {
                    if raw[i] == 0xE7, loadLE(raw, at: i, as: UInt32.self) == magic { return i }
                    i += 1
                }
                return nil
            }
            guard let found else {
                candidate += Int64(max(available - 3, 1))
                continue
            }
            let at = candidate + Int64(found)
            if case .valid = try check(at: at) { return at }
            candidate = at + 1
        }
        return nil
    }

    /// Whether every byte from `start` to the end is zero (a file extended by a crash before its
    /// data blocks were written reads as zeros).
    private mutating func isAllZero(from start: Int64) throws(SpillFormatError) -> Bool {
        var offset = start
        while offset < fileSize {
            let n = Int(min(Int64(window.count), fileSize - offset))
            let zero = try withWindow(at: offset, count: n) { raw in raw.allSatisfy { $0 == 0 } }
            if !zero { return false }
            offset += Int64(n)
        }
        return true
    }

    // MARK: buffered reads

    /// Runs `body` over `count` bytes at `offset` (count ≤ the window size, within the file),
    /// refilling the window when they are not in it.
    private mutating func withWindow<T>(at offset: Int64, count: Int,
                                        _ body: (UnsafeRawBufferPointer) -> T) throws(SpillFormatError) -> T {
        if offset < windowStart || offset + Int64(count) > windowStart + Int64(windowCount) {
            let want = Int(min(Int64(window.count), fileSize - offset))
            let fd = file.fd
            let got = try SpillPOSIX.readAt(fd, into: &window, range: 0..<want, offset: offset, path: path)
            windowStart = offset
            windowCount = got
            guard got >= count else {
                // The file shrank under us (someone truncated it); treat as an I/O problem.
                throw .io(operation: "pread (file shrank)", path: path, errno: EIO)
            }
        }
        let from = Int(offset - windowStart)
        return window.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[from..<(from + count)])) }
    }

    private mutating func readPayload(at offset: Int64, length: Int) throws(SpillFormatError) -> [UInt8] {
        if length <= window.count {
            return try withWindow(at: offset, count: length) { Array($0) }
        }
        // Larger than the window: its size was just validated by the CRC, so allocate it whole.
        var payload = [UInt8](repeating: 0, count: length)
        let got = try SpillPOSIX.readAt(file.fd, into: &payload, range: 0..<length, offset: offset, path: path)
        guard got == length else { throw .io(operation: "pread (file shrank)", path: path, errno: EIO) }
        return payload
    }
}
