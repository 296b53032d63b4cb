#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a small key file as UTF-8 text. Key files are a few hundred bytes; anything over the
/// limit is refused rather than read, and the error names the path, never the content.
enum KeyFileText {
    static let limit = 64 * 1024

    static func read(_ path: String) throws(AuthKeyError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw AuthKeyError(.badKeyFile, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AuthKeyError(.badKeyFile, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
            guard bytes.count <= limit else {
                throw AuthKeyError(.badKeyFile, "\(path) is larger than \(limit) bytes: not a key file")
            }
        }
        // Overwrite the copy that held key bytes; the returned String is the only one left.
        defer { for i in chunk.indices { chunk[i] = 0 } }
        return String(decoding: bytes, as: UTF8.self)
    }
}
