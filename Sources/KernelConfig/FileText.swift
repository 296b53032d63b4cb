import KernelRuntime
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
        switch FileDescriptorIO.readFile(path, limit: limit) {
        case .success(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .failure(.open(let errno)): throw Failure(path: path, reason: String(cString: strerror(errno)))
        case .failure(.tooLarge): throw Failure(path: path, reason: "larger than \(limit) bytes")
        case .failure(.read): throw Failure(path: path, reason: "read error")
        }
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
