#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns an open file descriptor and closes it when the last reference goes, so value types that
/// read a file (the segment reader) need no explicit close.
final class SpillFileDescriptor {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { _ = close(fd) }
}
