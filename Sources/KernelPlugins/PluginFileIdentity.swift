#if canImport(Glibc)
import Glibc
#endif

/// What tells one version of a file from another without reading it: device, inode, size and
/// modification time. A rename into place gives a new inode; a copy in place changes size or
/// mtime. Used by the plugin watcher to notice new, replaced and still-changing files.
public struct PluginFileIdentity: Sendable, Hashable, CustomStringConvertible {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanos: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, modifiedNanos: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modifiedNanos = modifiedNanos
    }

    /// The identity of the regular file at `path`, or nil if there is none.
    public static func of(path: String) -> PluginFileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return PluginFileIdentity(st)
    }

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modifiedNanos = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }

    public var description: String { "inode \(inode), \(size) bytes, mtime \(modifiedNanos)" }
}
