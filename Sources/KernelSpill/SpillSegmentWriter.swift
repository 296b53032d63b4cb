#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends records to one segment file through a write buffer.
///
/// Not thread-safe: `SpillAppender` owns one under its lock. Durability is explicit: records are
/// on disk only after `sync()` returns. A failed write (e.g. ENOSPC) throws and poisons the writer
/// (every later call throws the same error); the bytes it did write stay in the file, where the
/// reader reports them as a torn tail. The caller abandons the segment and starts a new one.
/// `seal()` closes a segment for good, recording its length and record count in the seal slot
/// so that a reader can tell a cut from a torn append (docs/spill.md, "The seal").
public final class SpillSegmentWriter {
    /// The segment file's path.
    public let path: String
    public let sequence: UInt64
    public let createdAtNanos: Int64
    /// Bytes in the segment, header included, counting bytes still in the write buffer.
    public private(set) var size: Int64
    /// Records appended (this process) to the segment.
    public private(set) var recordCount = 0

    private(set) var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit: Int
    private var failure: SpillFormatError?

    private init(path: String, sequence: UInt64, createdAtNanos: Int64, fd: Int32, bufferLimit: Int) {
        self.path = path
        self.sequence = sequence
        self.createdAtNanos = createdAtNanos
        self.fd = fd
        self.bufferLimit = bufferLimit
        self.size = Int64(SpillSegmentFormat.headerSize)
        buffer.reserveCapacity(bufferLimit)
    }

    deinit {
        if fd >= 0 { SpillPOSIX.closeQuietly(fd) }
    }

    /// Creates `spill-<sequence>.seg` in `directory` (which must exist; `createdAtNanos` defaults to now): `O_CREAT|O_EXCL`, mode
    /// 0640, header written, the file fsynced and then the directory fsynced so the new name
    /// survives a crash. On failure the half-made file is removed (no record was acknowledged
    /// from it). Throws `.io(operation: "open", errno: EEXIST)` when the name is taken.
    public static func create(directory: String, sequence: UInt64,
                              createdAtNanos: Int64? = nil,
                              bufferBytes: Int = 1 << 20) throws(SpillFormatError) -> SpillSegmentWriter {
        let createdAtNanos = createdAtNanos ?? SpillPOSIX.nowNanos()
        let path = directory + "/" + SpillSegmentFormat.fileName(sequence: sequence)
        let fd = try SpillPOSIX.openFile(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o640)
        let writer = SpillSegmentWriter(path: path, sequence: sequence, createdAtNanos: createdAtNanos, fd: fd,
                                        bufferLimit: max(bufferBytes, 4096))
        do throws(SpillFormatError) {
            // The umask may have narrowed the mode; make it exactly 0640.
            if fchmod(fd, 0o640) != 0 { throw .io(operation: "fchmod", path: path, errno: errno) }
            // The seal slot is written as zeros now ("not sealed") and filled in by `seal()`.
            let header = SpillSegmentFormat.header(createdAtNanos: createdAtNanos)
                + [UInt8](repeating: 0, count: SpillSegmentFormat.sealSize)
            try SpillPOSIX.writeAll(fd, header[...], path: path)
            try SpillPOSIX.fullSync(fd, path: path)
            try SpillPOSIX.syncDirectory(directory)
        } catch {
            _ = unlink(path)
            throw error
        }
        return writer
    }

    /// Frames and appends one payload (buffered; not durable until `sync()`).
    public func append(payload: [UInt8]) throws(SpillFormatError) {
        guard payload.count <= SpillSegmentFormat.maxRecordPayload else {
            throw .badRecord("record payload of \(payload.count) bytes exceeds the limit of \(SpillSegmentFormat.maxRecordPayload)")
        }
        var framed: [UInt8] = []
        framed.reserveCapacity(SpillSegmentFormat.recordHeaderSize + payload.count)
        payload.withUnsafeBytes { SpillSegmentFormat.appendRecord(payload: $0, to: &framed) }
        try appendFramed(framed[...], records: 1)
    }

    /// Frames and appends several payloads (buffered; not durable until `sync()`).
    public func append(payloads: [[UInt8]]) throws(SpillFormatError) {
        for payload in payloads { try append(payload: payload) }
    }

    /// Appends bytes that are already whole framed records (`records` of them).
    func appendFramed(_ bytes: ArraySlice<UInt8>, records: Int) throws(SpillFormatError) {
        if let failure { throw failure }
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count >= bufferLimit {
            try write(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        size += Int64(bytes.count)
        recordCount += records
    }

    /// Writes the buffer to the file (no fsync).
    public func flush() throws(SpillFormatError) {
        if let failure { throw failure }
        guard !buffer.isEmpty else { return }
        try write(buffer[...])
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and makes every appended record durable (fdatasync). Only after this returns may
    /// the records' stream entries be acknowledged.
    public func sync() throws(SpillFormatError) {
        try flush()
        do throws(SpillFormatError) {
            try SpillPOSIX.dataSync(fd, path: path)
        } catch {
            // After a failed fsync the kernel may have dropped the dirty pages: nothing written
            // since the last good sync can be trusted, so the segment is abandoned.
            failure = error
            throw error
        }
    }

    /// Syncs and closes the segment. The descriptor is closed even when the sync fails.
    public func close() throws(SpillFormatError) {
        guard fd >= 0 else { return }
        defer {
            SpillPOSIX.closeQuietly(fd)
            fd = -1
        }
        try sync()
    }

    /// Syncs the records, then writes the seal (length and record count) and syncs it, and
    /// closes. The seal goes in only after every record is durable, so a sealed segment never
    /// legitimately ends in a torn record; a crash during the seal's write leaves the slot zeros
    /// (read as never sealed, which is true of its durability) or unreadable (read as possibly
    /// sealed). The descriptor is closed even when this fails.
    public func seal() throws(SpillFormatError) {
        if let failure { throw failure }
        guard fd >= 0 else { throw .io(operation: "pwrite", path: path, errno: EBADF) }
        defer {
            SpillPOSIX.closeQuietly(fd)
            fd = -1
        }
        try sync()
        let slot = SpillSegmentFormat.seal(length: size, records: Int64(recordCount))
        do throws(SpillFormatError) {
            try SpillPOSIX.writeAll(fd, slot, at: Int64(SpillSegmentFormat.sealOffset), path: path)
            try SpillPOSIX.dataSync(fd, path: path)
        } catch {
            failure = error
            throw error
        }
    }

    /// Closes without syncing (after a failure; the segment is abandoned).
    func abandon() {
        guard fd >= 0 else { return }
        SpillPOSIX.closeQuietly(fd)
        fd = -1
        if failure == nil { failure = .io(operation: "write", path: path, errno: EBADF) }
    }

    private func write(_ bytes: ArraySlice<UInt8>) throws(SpillFormatError) {
        do throws(SpillFormatError) {
            try SpillPOSIX.writeAll(fd, bytes, path: path)
        } catch {
            failure = error
            throw error
        }
    }
}
