#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An exclusive `flock` on `<spill dir>/.lock`, held until `close()` or deinit.
///
/// Keeps a running kernel and `kernel spill replay` from working on the same directory at once.
/// `flock` locks belong to the open file description, so two `lock()` calls conflict even within
/// one process; the lock goes away by itself if the process dies.
public final class SpillDirectoryLock: Sendable {
    /// The lock file's path.
    public let path: String
    private let fd: Mutex<Int32>

    init(directory: String) throws(SpillError) {
        let path = directory + "/.lock"
        self.path = path
        let descriptor: Int32
        do throws(SpillFormatError) {
            descriptor = try SpillPOSIX.openFile(path, O_RDWR | O_CREAT, mode: 0o640)
        } catch {
            throw SpillError(error)
        }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            SpillPOSIX.closeQuietly(descriptor)
            if code == EWOULDBLOCK { throw .locked(directory: directory) }
            throw .io(operation: "flock", path: path, errno: code)
        }
        fd = Mutex(descriptor)
    }

    /// Whether the lock is still held by this object.
    public var isHeld: Bool { fd.withLock { $0 >= 0 } }

    /// Releases the lock (closing the descriptor releases the flock). Idempotent.
    public func close() {
        fd.withLock { descriptor in
            if descriptor >= 0 { SpillPOSIX.closeQuietly(descriptor) }
            descriptor = -1
        }
    }

    deinit { close() }
}
