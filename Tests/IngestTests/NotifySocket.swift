import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notification socket: the test hands its address
/// to the kernel as NOTIFY_SOCKET and reads what the kernel sends.
final class NotifySocket {
    let fd: Int32
    /// The NOTIFY_SOCKET value: a path, or `@name` for the abstract namespace.
    let address: String

    /// Binds `address`. `receiveTimeoutSeconds` bounds each read, so a kernel that never
    /// notifies fails the test instead of hanging it.
    init(address: String, receiveTimeoutSeconds: Int = 120) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError(message: "socket: errno \(errno)") }
        var sockaddr = sockaddr_un()
        sockaddr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &sockaddr.sun_path) { path in
            for (i, byte) in bytes.enumerated() { path[i] = byte }
        }
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (bytes[0] == 0 ? 0 : 1)
        let bound = withUnsafePointer(to: &sockaddr) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
        }
        guard bound == 0 else { throw HarnessError(message: "bind \(address): errno \(errno)") }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }

    /// The next datagram, or nil when none came within the receive timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            return String(decoding: buffer[0..<n], as: UTF8.self)
        }
    }

    /// Reads datagrams until one has the line `line` (e.g. "READY=1"); returns every datagram
    /// read, that one last, or nil when the socket went quiet first.
    func receive(until line: String) -> [String]? {
        var seen: [String] = []
        while let message = receive() {
            seen.append(message)
            if message.split(separator: "\n").contains(Substring(line)) { return seen }
        }
        return nil
    }
}
