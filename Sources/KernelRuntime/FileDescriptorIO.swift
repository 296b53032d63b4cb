#if canImport(Glibc)
import Glibc
#endif

/// Whole-buffer I/O on a file descriptor: `write`/`pwrite`/`read` return short counts and `EINTR`,
/// so every caller needs the same loop (the spill's segments, the plugin-host pipes, the log sink).
public enum FileDescriptorIO {
    /// Writes every byte of `bytes` (at `offset` with `pwrite` when given; the file offset is then
    /// unchanged). Returns 0, or the `errno` of the failure; a write that makes no progress is
    /// `EIO`, so a broken descriptor never loops for ever.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil) -> Int32 {
        guard let base = bytes.baseAddress else { return 0 }
        var done = 0
        while done < bytes.count {
            let n = if let offset {
                pwrite(fd, base + done, bytes.count - done, off_t(offset) + off_t(done))
            } else {
                write(fd, base + done, bytes.count - done)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }
            done += n
        }
        return 0
    }

    /// Reads until `bytes` is full or the end of the file: the count read (less than asked only
    /// at the end of the file), or -1 with `errno` set.
    public static func readAll(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var done = 0
        while done < bytes.count {
            let n = read(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            done += n
        }
        return done
    }
}
