#if canImport(Glibc)
import Glibc
#endif
import KernelJSON
import KernelPluginABI
import Logging

/// What a plugin's `host_ctx` points at: the logger its log lines go to.
final class PluginHostContext: Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

/// Builds the `kp_host_services` table handed to a plugin's `init`. One table per plugin instance,
/// allocated once and never freed (plugins may keep the pointer until `destroy`, and the shared
/// object is never unloaded).
enum HostServices {
    static func make(logger: Logger) -> UnsafePointer<kp_host_services> {
        let context = Unmanaged.passRetained(PluginHostContext(logger: logger)).toOpaque()
        let table = UnsafeMutablePointer<kp_host_services>.allocate(capacity: 1)
        table.initialize(to: kp_host_services(
            struct_size: UInt32(MemoryLayout<kp_host_services>.size),
            abi_minor: UInt32(KP_ABI_MINOR),
            log: { ctx, level, msg, len in
                guard let ctx else { return }
                let host = Unmanaged<PluginHostContext>.fromOpaque(ctx).takeUnretainedValue()
                let bounded = min(len, 4096)
                let text = msg.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: bounded), as: UTF8.self) } ?? ""
                let swiftLevel: Logger.Level = switch level {
                case KP_LOG_DEBUG: .debug
                case KP_LOG_INFO: .info
                case KP_LOG_WARN: .warning
                default: .error
                }
                host.logger.log(level: swiftLevel, "\(text)")
            },
            now_unix_ns: { _ in Clock.unixNanos() },
            json_field: { json, len, key, value, valueLen in
                JSONScannerBridge.field(json: json, len: len, key: key, value: value, valueLen: valueLen)
            },
            json_unescape: { raw, len, out, cap in
                JSONScannerBridge.unescape(raw: raw, len: len, out: out, cap: cap)
            },
            host_ctx: context
        ))
        return UnsafePointer(table)
    }
}

/// The C-shaped entry points of the JSON host services, over KernelJSON's scanner.
enum JSONScannerBridge {
    static func field(json: UnsafePointer<CChar>?, len: Int, key: UnsafePointer<CChar>?,
                      value: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                      valueLen: UnsafeMutablePointer<Int>?) -> kp_json_type {
        value?.pointee = nil
        valueLen?.pointee = 0
        guard let json, let key else { return KP_JSON_ABSENT }
        let buffer = UnsafeRawBufferPointer(start: json, count: len)
        let (kind, range) = JSONScanner.field(String(cString: key), in: buffer)
        let type: kp_json_type = switch kind {
        case .absent: KP_JSON_ABSENT
        case .null: KP_JSON_NULL
        case .bool: KP_JSON_BOOL
        case .number: KP_JSON_NUMBER
        case .string: KP_JSON_STRING
        case .array: KP_JSON_ARRAY
        case .object: KP_JSON_OBJECT
        case .error: KP_JSON_ERROR
        }
        if type != KP_JSON_ABSENT && type != KP_JSON_ERROR {
            value?.pointee = json + range.lowerBound
            valueLen?.pointee = range.count
        }
        return type
    }

    static func unescape(raw: UnsafePointer<CChar>?, len: Int, out: UnsafeMutablePointer<CChar>?, cap: Int) -> Int64 {
        guard let raw else { return -1 }
        guard let decoded = JSONScanner.unescape(UnsafeRawBufferPointer(start: raw, count: len)) else { return -1 }
        guard decoded.count <= cap else { return -1 }
        if let out, !decoded.isEmpty {
            decoded.withUnsafeBytes { UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: decoded.count) }
        }
        return Int64(decoded.count)
    }

    static func isValidJSON(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count > 0 && JSONScanner.validate(bytes) == nil
    }
}

/// Wall-clock time without Foundation.
enum Clock {
    static func unixNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
