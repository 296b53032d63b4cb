#if canImport(Glibc)
import Glibc
#endif

extension PluginLoader {
    /// Loads a private snapshot of the plugin file at `path`, for loading while the kernel runs.
    ///
    /// Why a copy: the dynamic loader recognises an object by its path name (and inode), so a new
    /// version renamed over `libx.so` would come back as the old, still-mapped object; and a file
    /// overwritten in place while mapped can crash the process (SIGBUS). The copy is taken with
    /// the source's identity checked before and after, probed, dlopened and unlinked at once: the
    /// mapping outlives the name, and nothing anyone does to `path` afterwards can reach it.
    /// The copy is made beside the original as a hidden file (the plugins directory is known to
    /// allow mapping code), else in `$TMPDIR`.
    ///
    /// Returns the plugin (its `path` is the original) and the identity of the file copied.
    public static func loadSnapshot(path: String) throws(PluginLoadError) -> (plugin: LoadedPlugin, identity: PluginFileIdentity) {
        func refuse(_ reason: PluginLoadError.Reason, _ detail: String) -> PluginLoadError {
            PluginLoadError(path: path, reason: reason, detail: detail)
        }
        let source = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw refuse(.notFound, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(source) }
        var before = stat()
        guard fstat(source, &before) == 0 else { throw refuse(.notFound, "cannot stat: \(String(cString: strerror(errno)))") }
        guard (before.st_mode & S_IFMT) == S_IFREG else { throw refuse(.notRegularFile, "not a regular file") }
        let identity = PluginFileIdentity(before)
        guard let (copyPath, copy) = makeSnapshotFile(besides: path) else {
            throw refuse(.notFound, "cannot create a snapshot file: \(String(cString: strerror(errno)))")
        }
        defer { unlink(copyPath) }
        var copied: Int64 = 0
        var failure: String?
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1 << 16) { buffer in
            while true {
                let n = read(source, buffer.baseAddress, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = "read: \(String(cString: strerror(errno)))"; return }
                if n == 0 { return }
                var written = 0
                while written < n {
                    let w = write(copy, buffer.baseAddress! + written, n - written)
                    if w < 0 && errno == EINTR { continue }
                    if w <= 0 { failure = "write snapshot: \(String(cString: strerror(errno)))"; return }
                    written += w
                }
                copied += Int64(n)
            }
        }
        close(copy)
        if let failure { throw refuse(.notFound, failure) }
        var after = stat()
        guard stat(path, &after) == 0, PluginFileIdentity(after) == identity, copied == identity.size else {
            throw refuse(.fileChanging, "the file changed while it was read (write it under a temporary name and rename it into place)")
        }
        try probeFile(copyPath, reportedPath: path)
        return (try open(objectPath: copyPath, reportedPath: path), identity)
    }

    /// A new empty file for a snapshot of `path`: a hidden name in the same directory (skipped by
    /// the directory scan), or in `$TMPDIR` when that directory is not writable.
    private static func makeSnapshotFile(besides path: String) -> (String, Int32)? {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let tmp = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        for base in [directory, tmp] {
            var template = Array("\(base)/.dk-plugin-snapshot-XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                let name = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                return (name, fd)
            }
        }
        return nil
    }
}
