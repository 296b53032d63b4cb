#if canImport(Glibc)
import Glibc
#endif

/// Whole-buffer I/O on a file descriptor: `write`/`pwrite`/`read` return short counts and `EINTR`,
/// so every caller needs the same loop (the spill's segments, the plugin-host pipes, the log sink);
/// and the one bounded whole-file read the config, the tools and the fuzzer share.
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

    /// Why `readFile` returned no bytes.
    public enum ReadFailure: Error, Sendable, Equatable {
        /// `fopen` failed with this `errno`.
        case open(errno: Int32)
        /// The file holds more than the limit.
        case tooLarge(limit: Int)
        /// `fread` stopped with an error before the end of the file.
        case read
    }

    /// A whole (small) file, refused past `limit` bytes so a wrong path (a device, a huge log)
    /// cannot exhaust memory: the config and secret files, plugin fixtures, fuzzing corpora.
    public static func readFile(_ path: String, limit: Int) -> Result<[UInt8], ReadFailure> {
        guard let file = fopen(path, "rb") else { return .failure(.open(errno: errno)) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if bytes.count > limit { return .failure(.tooLarge(limit: limit)) }
            if count < chunk.count {
                if ferror(file) != 0 { return .failure(.read) }
                return .success(bytes)
            }
        }
    }
}
