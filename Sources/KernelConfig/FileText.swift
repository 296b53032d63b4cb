#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads small text files (the config, `*_FILE` secrets) with a size limit, without Foundation.
enum FileText {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { reason }
    }

    static func read(_ path: String, limit: Int) throws(Failure) -> String {
        guard let file = fopen(path, "rb") else {
            throw Failure(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if bytes.count > limit {
                throw Failure(path: path, reason: "larger than \(limit) bytes")
            }
            if count < chunk.count {
                if ferror(file) != 0 { throw Failure(path: path, reason: "read error") }
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The process environment as a dictionary, the default for `KernelConfig.load`.
public enum ProcessEnvironment {
    /// Every `NAME=value` of the running process.
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
