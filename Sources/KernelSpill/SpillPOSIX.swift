import KernelRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// errno text for error messages.
enum SpillErrno {
    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "unknown error" }
        return String(cString: text)
    }
}

/// The few system calls the spill needs, with EINTR retried and errors typed. Every failure names
/// the call and the path so an operator can act on the log line alone.
enum SpillPOSIX {
    typealias Failure = SpillFormatError

    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Failure) -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw .io(operation: "open", path: path, errno: errno)
        }
    }

    /// Writes every byte or throws. A short write followed by an error leaves the bytes written so
    /// far in the file; the spill format reads them as a torn tail.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(Failure) {
        let failed = FileDescriptorIO.writeAll(fd, bytes)
        if failed != 0 { throw .io(operation: "write", path: path, errno: failed) }
    }

    /// Writes every byte of `bytes` or throws (see the raw-buffer form).
    static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String) throws(Failure) {
        var failure: Failure?
        bytes.withUnsafeBytes { raw in
            do throws(Failure) {
                try writeAll(fd, raw, path: path)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Writes every byte of `bytes` at `offset` (pwrite; the file offset is unchanged) or throws.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws(Failure) {
        let failed = bytes.withUnsafeBytes { FileDescriptorIO.writeAll(fd, $0, at: offset) }
        if failed != 0 { throw .io(operation: "pwrite", path: path, errno: failed) }
    }

    /// Closes a descriptor, ignoring errors (cleanup paths).
    static func closeQuietly(_ fd: Int32) {
        _ = close(fd)
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer only at end of file.
    static func readAt(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, offset: Int64, path: String) throws(Failure) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "pread", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads into `array[range]` at `offset`; returns the bytes read (fewer only at end of file).
    static func readAt(_ fd: Int32, into array: inout [UInt8], range: Range<Int>, offset: Int64,
                       path: String) throws(Failure) -> Int {
        var result: Result<Int, Failure> = .success(0)
        array.withUnsafeMutableBytes { raw in
            do throws(Failure) {
                result = .success(try readAt(fd, UnsafeMutableRawBufferPointer(rebasing: raw[range]), offset: offset, path: path))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// Data (and the size, which fdatasync includes when it changed) reach stable storage.
    static func dataSync(_ fd: Int32, path: String) throws(Failure) {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw .io(operation: "fdatasync", path: path, errno: errno)
        }
    }

    static func fullSync(_ fd: Int32, path: String) throws(Failure) {
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw .io(operation: "fsync", path: path, errno: errno)
        }
    }

    /// Makes a directory's entries (a created or removed name) durable.
    static func syncDirectory(_ path: String) throws(Failure) {
        let fd = try openFile(path, O_RDONLY | O_DIRECTORY)
        defer { _ = close(fd) }
        try fullSync(fd, path: path)
    }

    static func fileSize(_ fd: Int32, path: String) throws(Failure) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "fstat", path: path, errno: errno) }
        return Int64(info.st_size)
    }

    /// nil when the path does not exist.
    static func statPath(_ path: String) throws(Failure) -> stat? {
        var info = stat()
        if stat(path, &info) == 0 { return info }
        if errno == ENOENT { return nil }
        throw .io(operation: "stat", path: path, errno: errno)
    }

    static func closeFile(_ fd: Int32, path: String) throws(Failure) {
        // Linux closes the descriptor even when close reports an error; never retry it.
        if close(fd) != 0 && errno != EINTR {
            throw .io(operation: "close", path: path, errno: errno)
        }
    }

    /// The names in a directory (without "." and "..").
    static func listDirectory(_ path: String) throws(Failure) -> [String] {
        guard let dir = opendir(path) else { throw .io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw .io(operation: "readdir", path: path, errno: errno) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// Wall-clock time, Unix nanoseconds.
    static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
