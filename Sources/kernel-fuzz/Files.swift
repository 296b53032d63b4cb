import KernelRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small file helpers without Foundation.
enum Files {
    static func read(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
        try? FileDescriptorIO.readFile(path, limit: limit).get()
    }

    @discardableResult
    static func write(_ path: String, _ bytes: [UInt8]) -> Bool {
        guard let file = fopen(path, "wb") else { return false }
        defer { fclose(file) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        return written == bytes.count
    }

    /// Names in `dir` (no `.`/`..`), sorted so seed order and thus runs are deterministic.
    static func list(_ dir: String) -> [String]? {
        guard let handle = opendir(dir) else { return nil }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The contents of every file in `dir` whose name ends with one of `suffixes` (all when empty).
    static func corpus(_ dir: String, suffixes: [String] = []) -> [[UInt8]] {
        guard let names = list(dir) else { return [] }
        return names.filter { name in suffixes.isEmpty || suffixes.contains { name.hasSuffix($0) } }
            .compactMap { read(dir + "/" + $0) }
    }

    static func makeDirectory(_ path: String) {
        _ = mkdir(path, 0o755)
    }
}

/// Monotonic nanoseconds.
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Writes to stderr unbuffered (the child's messages must not be lost when it dies).
func printError(_ text: String) {
    var line = Array((text + "\n").utf8)
    line.withUnsafeMutableBytes { _ = systemWrite(2, $0.baseAddress, $0.count) }
}

/// Writes to stdout unbuffered.
func printOut(_ text: String) {
    var line = Array((text + "\n").utf8)
    line.withUnsafeMutableBytes { _ = systemWrite(1, $0.baseAddress, $0.count) }
}

/// `write(2)`, named apart from `Files.write`.
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
