import KernelPluginABI

/// The services the host lends a plugin (`kp_host_services`): logging and the clock.
///
/// Valid from `init(config:host:)` until the plugin is destroyed, so a normalizer may keep it.
/// Functions a host does not offer (an older minor version, or NULL) are skipped silently.
public struct HostServices: @unchecked Sendable {
    // @unchecked: a pointer to a host-owned, immutable table whose functions the ABI allows to be
    // called from any thread.
    let raw: UnsafePointer<kp_host_services>?

    init(_ raw: UnsafePointer<kp_host_services>?) { self.raw = raw }

    /// A host that offers nothing: logging is dropped, `nowUnixNanos()` is nil. For tests.
    public static let none = HostServices(nil)

    /// Log severities (`kp_log_level`).
    public enum LogLevel: UInt32, Sendable {
        case debug = 0, info = 1, warn = 2, error = 3
    }

    /// Writes one log line attributed to this plugin.
    public func log(_ level: LogLevel, _ message: String) {
        guard let raw, has(MemoryLayout<kp_host_services>.offset(of: \.log)), let log = raw.pointee.log else { return }
        var message = message
        message.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                log(raw.pointee.host_ctx, kp_log_level(rawValue: level.rawValue), chars.baseAddress, chars.count)
            }
        }
    }

    /// The host's wall clock in Unix nanoseconds, or nil if the host offers none.
    public func nowUnixNanos() -> Int64? {
        guard let raw, has(MemoryLayout<kp_host_services>.offset(of: \.now_unix_ns)),
              let now = raw.pointee.now_unix_ns else { return nil }
        return now(raw.pointee.host_ctx)
    }

    /// Whether the host's struct is large enough to contain the field at `offset`.
    private func has(_ offset: Int?) -> Bool {
        guard let raw, let offset else { return false }
        return Int(raw.pointee.struct_size) >= offset + MemoryLayout<UnsafeRawPointer>.size
    }
}
