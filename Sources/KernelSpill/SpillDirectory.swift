#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The spill directory: its segment files, their removal and its lock.
///
/// A value type naming a path; every call reads the directory afresh, so several holders (the
/// appender, the replayer, `kernel spill status`) see each other's changes.
public struct SpillDirectory: Sendable {
    /// The directory's path, without a trailing slash.
    public let path: String

    /// Opens `path`, creating it and any missing parents (mode 0750). Each directory created is
    /// made durable by fsyncing its parent.
    public init(path: String) throws(SpillError) {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard !trimmed.isEmpty else { throw .io(operation: "mkdir", path: path, errno: ENOENT) }
        self.path = trimmed
        do throws(SpillFormatError) {
            try Self.makeDirectories(trimmed)
        } catch {
            throw SpillError(error)
        }
    }

    private static func makeDirectories(_ path: String) throws(SpillFormatError) {
        if let info = try SpillPOSIX.statPath(path) {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw .io(operation: "mkdir", path: path, errno: ENOTDIR) }
            return
        }
        let parent = parentPath(of: path)
        if parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o750) != 0 {
            if errno == EEXIST { return }
            throw .io(operation: "mkdir", path: path, errno: errno)
        }
        try SpillPOSIX.syncDirectory(parent)
    }

    private static func parentPath(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The segment files, oldest (lowest sequence) first, with sizes and header times.
    public func segments() throws(SpillError) -> [SpillSegmentInfo] {
        try listSegments(readHeaders: true)
    }

    /// The total size of the segment files.
    public func totalBytes() throws(SpillError) -> Int {
        try listSegments(readHeaders: false).reduce(0) { $0 + $1.bytes }
    }

    /// One more than the highest sequence present, quarantined (`.damaged`) segments included (1
    /// for an empty directory): a new segment must never take the name of a damaged one, whose
    /// file a later quarantine would otherwise replace.
    public func nextSequence() throws(SpillError) -> UInt64 {
        let live = try listSegments(readHeaders: false).last?.sequence ?? 0
        let damaged = try damagedSegments().last?.sequence ?? 0
        return max(live, damaged) + 1
    }

    /// The quarantined segments (`spill-<sequence>.seg.damaged`), oldest first: what
    /// `kernel spill salvage` reads. Not counted against the budget.
    public func damagedSegments() throws(SpillError) -> [SpillSegmentInfo] {
        try segmentFiles(sequence: SpillSegmentFormat.sequence(fromDamagedFileName:), readHeaders: false)
    }

    /// Deletes a segment and fsyncs the directory so the deletion survives a crash (a segment
    /// coming back after replay would only be replayed again, deduplicated, but wastes time).
    /// A segment already gone is not an error.
    public func remove(_ segment: SpillSegmentInfo) throws(SpillError) {
        if unlink(segment.path) != 0 && errno != ENOENT {
            throw .io(operation: "unlink", path: segment.path, errno: errno)
        }
        do throws(SpillFormatError) {
            try SpillPOSIX.syncDirectory(path)
        } catch {
            throw SpillError(error)
        }
    }

    /// Takes the directory's exclusive lock without waiting; throws `.locked` naming the directory
    /// when another holder has it.
    public func lock() throws(SpillError) -> SpillDirectoryLock {
        try SpillDirectoryLock(directory: path)
    }

    func listSegments(readHeaders: Bool) throws(SpillError) -> [SpillSegmentInfo] {
        try segmentFiles(sequence: SpillSegmentFormat.sequence(fromFileName:), readHeaders: readHeaders)
    }

    /// The regular files whose names `sequence` reads a sequence number from, oldest first.
    private func segmentFiles(sequence sequenceOf: (String) -> UInt64?, readHeaders: Bool) throws(SpillError) -> [SpillSegmentInfo] {
        do throws(SpillFormatError) {
            var found: [SpillSegmentInfo] = []
            for name in try SpillPOSIX.listDirectory(path) {
                guard let sequence = sequenceOf(name) else { continue }
                let file = path + "/" + name
                // A segment removed between readdir and stat (by the replayer) is simply gone.
                guard let info = try SpillPOSIX.statPath(file), info.st_mode & S_IFMT == S_IFREG else { continue }
                let created = readHeaders ? Self.headerTime(file) : nil
                found.append(SpillSegmentInfo(path: file, fileName: name, sequence: sequence,
                                              bytes: Int(info.st_size), createdAtNanos: created))
            }
            return found.sorted { $0.sequence < $1.sequence }
        } catch {
            throw SpillError(error)
        }
    }

    /// The header's creation time, or nil if the header cannot be read or is bad.
    private static func headerTime(_ file: String) -> Int64? {
        guard let fd = try? SpillPOSIX.openFile(file, O_RDONLY) else { return nil }
        defer { SpillPOSIX.closeQuietly(fd) }
        var bytes = [UInt8](repeating: 0, count: SpillSegmentFormat.fixedHeaderSize)
        guard let n = try? SpillPOSIX.readAt(fd, into: &bytes, range: 0..<bytes.count, offset: 0, path: file) else { return nil }
        let parsed = bytes.withUnsafeBytes { SpillSegmentFormat.parseHeader(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        return try? parsed.get().createdAtNanos
    }
}
